/**
 * The client side of execution-replies.ts: an execution's reply published while the caller's connection was down
 * is lost (core NATS), but the node that accepted it keeps it for a while. So each time the connection is back, a
 * watched request that knows its node asks that node what became of the execution: its reply (settled as if it had
 * just arrived), `running` (the reply is still to come, over the connection as it is now: keep waiting), or
 * `unknown` (the node has no record of it: there is nothing left to wait for). A question that gets no answer (the
 * node may be reconnecting after the same outage) is asked again every {@link NODE_PING_INTERVAL_MS} for
 * {@link NODE_RECONNECT_GRACE_MS}; past that, a node gone is the pings' business (`node_lost`), and one that
 * predates these questions leaves the request waiting as before.
 * @module
 */
import type { Msg, NatsConnection } from 'nats';
import { InternalError } from '../errors.js';
import type { ConnectionLink } from './connection-link.js';
import { EXECUTION_OUTCOME_HEADER } from './execution-replies.js';
import { NODE_PING_INTERVAL_MS, NODE_PING_TIMEOUT_MS, NODE_RECONNECT_GRACE_MS } from './node-watch.js';
import { encodeJson } from './wire.js';

/** What the node that accepted an execution says of it. */
export type OutcomeAnswer =
  /** Its reply, as the node sent it: the message's body and error headers are the reply's. */
  { readonly kind: 'finished'; readonly reply: Msg } | { readonly kind: 'running' } | { readonly kind: 'unknown' };

/** Asks the node that accepted a request about it; rejects when the node gave no answer. */
export type AskOutcome = (nodeId: string) => Promise<OutcomeAnswer>;

/**
 * Asks on `subject` (the node's outcome subject for the execution's session and module, see subjects.ts) what became
 * of `executionId`, waiting as long as a ping does.
 * @throws what `connection.request` throws (`TIMEOUT`, `503`), or `InternalError` for an answer without the
 * outcome header (an error reply: the question was refused)
 */
export async function askExecutionOutcome(
  connection: NatsConnection,
  subject: string,
  executionId: string,
): Promise<OutcomeAnswer> {
  const reply = await connection.request(subject, encodeJson({ executionId }), { timeout: NODE_PING_TIMEOUT_MS });
  const outcome = reply.headers?.get(EXECUTION_OUTCOME_HEADER);
  if (outcome === 'finished') return { kind: 'finished', reply };
  if (outcome === 'running' || outcome === 'unknown') return { kind: outcome };
  throw new InternalError(`'${subject}' gave no outcome of execution '${executionId}'`, {
    details: { subject, executionId, answer: new TextDecoder().decode(reply.data).slice(0, 200) },
  });
}

/**
 * From now until the returned function is called, asks `ask()` each time `link` is back after dropping, and calls
 * `settle` once with the first answer that ends the wait (`finished` or `unknown`).
 */
export function recoverLostReply(
  link: ConnectionLink,
  ask: () => Promise<OutcomeAnswer>,
  settle: (answer: Exclude<OutcomeAnswer, { kind: 'running' }>) => void,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backAt = 0;
  const attempt = (): void => {
    if (stopped || link.down) return;
    const drops = link.drops;
    ask().then(
      (answer) => {
        // `running`: the reply is still to come, and the connection is up to take it (a new drop asks again).
        if (stopped || answer.kind === 'running') return;
        stopped = true;
        settle(answer);
      },
      () => {
        // Dropped again meanwhile: its return asks afresh.
        if (stopped || link.down || link.drops !== drops) return;
        if (performance.now() - backAt < NODE_RECONNECT_GRACE_MS) timer = setTimeout(attempt, NODE_PING_INTERVAL_MS);
      },
    );
  };
  const unlisten = link.onChange((change) => {
    clearTimeout(timer);
    if (change !== 'reconnected') return;
    backAt = performance.now();
    attempt();
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    unlisten();
  };
}
