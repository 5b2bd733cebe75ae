/**
 * The client side of execution-replies.ts: an execution's reply published while the caller's connection was down
 * is lost (core NATS), but the node that accepted it keeps it for a while. So each time the connection is back, a
 * watched request that knows its node asks that node what became of the execution: its reply (settled as if it had
 * just arrived), `running` (the reply is still to come, over the connection as it is now: keep waiting), or
 * `unknown` (the node has no record of it: there is nothing left to wait for). A question that gets no answer (the
 * node may be reconnecting after the same outage) is asked again every {@link NODE_PING_INTERVAL_MS} for
 * {@link NODE_RECONNECT_GRACE_MS}; past that, at each ping the node answers until it answers the question too (a
 * node away longer than the grace still has the reply when it is back), while a node gone is the pings' business
 * (`node_lost`), and one that predates these questions (it answers pings, and nothing subscribes to its outcome
 * subject) leaves the request waiting as before.
 * @module
 */
import { ErrorCode, headers, type Msg, type NatsConnection, type NatsError, type RequestOptions } from 'nats';
import { InternalError } from '../errors.js';
import type { ConnectionLink } from './connection-link.js';
import { EXECUTION_OUTCOME_HEADER } from './execution-replies.js';
import { NODE_PING_INTERVAL_MS, NODE_PING_TIMEOUT_MS, NODE_RECONNECT_GRACE_MS } from './node-watch.js';
import { SEARCH_DEADLINE_HEADER } from './search-deadline.js';
import { ACCEPTED_BY_HEADER, encodeJson } from './wire.js';

/** What the node that accepted an execution says of it. */
export type OutcomeAnswer =
  /** Its reply, as the node sent it: the message's body and error headers are the reply's. */
  | { readonly kind: 'finished'; readonly reply: Msg }
  /** `nodeId`: the node that has it in hand, as it names itself. */
  | { readonly kind: 'running'; readonly nodeId?: string | undefined }
  /** `nodeId`: the node that says so, when one was asked by name (a node asked with every other stays silent). */
  | { readonly kind: 'unknown'; readonly nodeId?: string | undefined };

/**
 * Asks the node `nodeId` that accepted a request about it, or, when the caller never learnt which one took it
 * (`undefined`), every node (only a node that has it answers) or the one node the caller can find otherwise (its
 * answer names it, `unknown` included); rejects when no node gave an answer, with {@link NodeDidNotAnswer} when
 * that one node did not.
 */
export type AskOutcome = (nodeId: string | undefined) => Promise<OutcomeAnswer>;

/**
 * The rejection of a question put, for want of the node's notice, to the one node the caller found otherwise (see
 * {@link AskOutcome}), which gave no answer: that node is then watched as if its notice had come, and asked again
 * once it answers a ping.
 */
export class NodeDidNotAnswer extends Error {
  constructor(
    readonly nodeId: string,
    options: { readonly cause: unknown },
  ) {
    super(`node ${nodeId} gave no answer about the execution`, options);
    this.name = 'NodeDidNotAnswer';
  }
}

/**
 * Asks on `subject` (the node's outcome subject for the execution's session and module, see subjects.ts) what became
 * of `executionId`, waiting as long as a ping does. A census gives `searchDeadline`, the execution's deadline (ms
 * since 1970): a node with no record of it then refuses it, should it take it late (see searched-executions.ts).
 * @throws what `connection.request` throws (`TIMEOUT`, `503`), or `InternalError` for an answer without the
 * outcome header (an error reply: the question was refused)
 */
export async function askExecutionOutcome(
  connection: NatsConnection,
  subject: string,
  executionId: string,
  searchDeadline?: number,
): Promise<OutcomeAnswer> {
  const options: RequestOptions = { timeout: NODE_PING_TIMEOUT_MS };
  if (searchDeadline !== undefined) {
    options.headers = headers();
    options.headers.set(SEARCH_DEADLINE_HEADER, String(Math.max(0, Math.round(searchDeadline))));
  }
  const reply = await connection.request(subject, encodeJson({ executionId }), options);
  const outcome = reply.headers?.get(EXECUTION_OUTCOME_HEADER);
  if (outcome === 'finished') return { kind: 'finished', reply };
  if (outcome === 'running' || outcome === 'unknown')
    return { kind: outcome, nodeId: reply.headers?.get(ACCEPTED_BY_HEADER) || undefined };
  throw new InternalError(`'${subject}' gave no outcome of execution '${executionId}'`, {
    details: { subject, executionId, answer: new TextDecoder().decode(reply.data).slice(0, 200) },
  });
}

/** A recovery under way (see {@link recoverLostReply}). */
export interface LostReplyRecovery {
  /** The node answered a ping: a question still unanswered since the last reconnect is asked now. */
  nodeAnswered(): void;
  /** Ends it: nothing more is asked or settled. */
  stop(): void;
}

/**
 * From now until {@link LostReplyRecovery.stop}, asks `ask()` each time `link` is back after dropping, and calls
 * `settle` once with the first answer that ends the wait (`finished` or `unknown`). A question left unanswered past
 * the grace is asked again at the node's next answered ping ({@link LostReplyRecovery.nodeAnswered}), until one is
 * answered: the node was away longer than the grace, and is back now. A node that answers pings but whose outcome
 * subject has no responders predates these questions, and is asked no more.
 */
export function recoverLostReply(
  link: ConnectionLink,
  ask: () => Promise<OutcomeAnswer>,
  settle: (answer: Exclude<OutcomeAnswer, { kind: 'running' }>) => void,
  owed = false,
): LostReplyRecovery {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backAt = 0;
  /** A reconnect happened whose question the node has not answered yet (`owed`: one before this recovery began). */
  let unanswered = owed;
  /** Questions in flight: a ping answered meanwhile asks nothing more. */
  let asking = 0;
  const attempt = (afterPing: boolean): void => {
    if (stopped || link.down) return;
    const drops = link.drops;
    asking += 1;
    ask().then(
      (answer) => {
        asking -= 1;
        if (stopped) return;
        // A drop meanwhile has a question of its own to be answered.
        if (link.drops === drops) unanswered = false;
        // `running`: the reply is still to come, and the connection is up to take it (a new drop asks again).
        if (answer.kind === 'running') return;
        stopped = true;
        settle(answer);
      },
      (error: unknown) => {
        asking -= 1;
        // Dropped again meanwhile: its return asks afresh.
        if (stopped || link.down || link.drops !== drops) return;
        // No responders right after the node answered a ping: it has no outcome subject, nor ever will.
        if (afterPing && (error as Partial<NatsError> | undefined)?.code === ErrorCode.NoResponders) unanswered = false;
        else if (!afterPing && performance.now() - backAt < NODE_RECONNECT_GRACE_MS)
          timer = setTimeout(() => {
            timer = undefined;
            attempt(false);
          }, NODE_PING_INTERVAL_MS);
      },
    );
  };
  const unlisten = link.onChange((change) => {
    clearTimeout(timer);
    timer = undefined;
    if (change !== 'reconnected') return;
    backAt = performance.now();
    unanswered = true;
    attempt(false);
  });
  return {
    nodeAnswered() {
      // Not while the grace's own questions go on: they ask as often as that already.
      if (unanswered && asking === 0 && timer === undefined) attempt(true);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      unlisten();
    },
  };
}
