/**
 * What every node says of an execution whose taker the caller never learnt: its acceptance notice never came (lost
 * in an outage, or the execution finishes in the turn that took it, which sends none) and neither did its reply. A
 * question to every node at once (the `all` outcome subject) is answered only by a node that has the execution, so
 * its silence cannot tell "no node has it" from "the node that has it is slow to answer": a request lost on its way
 * (in a NATS server's buffers as it restarted), or taken by a node that died before it answered, was waited for to
 * the end of its timeout (122 s for an execution).
 *
 * A census asks every node at once as before, and beside it the nodes one by one: it lists them with
 * `$SRV.PING.tether` (those of this client's subject prefix, by their service metadata), waiting as long as the node
 * watch waits for a ping, then asks each on its own outcome subject, where a node without the execution answers
 * `unknown`. The question to every node is answered by the node to watch (for an execution passed on to the node its
 * module stays on, the node that passes it on, where asked by name the node that runs it says `running` too), and
 * recovers a lost reply for a client whose permissions refuse it the listing; asked by name, the node that has the
 * reply or has it in hand says so; when every node listed answered `unknown`, no live node has it (`nobody`). A node
 * that did not answer the ping in time is not listed: by the node watch's measure (node-watch.ts) a node that misses
 * its pings is lost, so the caller acts on `nobody` only when two censuses a ping interval apart say it (see
 * taker-search.ts).
 * @module
 */
import { Empty, RequestStrategy, type NatsConnection } from 'nats';
import { askExecutionOutcome, type OutcomeAnswer } from './lost-reply-recovery.js';
import { NODE_PING_TIMEOUT_MS } from './node-watch.js';
import { ALL_NODES, type TetherSubjects } from './subjects.js';
import { NODE_ID, SERVICE_NAME } from './wire.js';

/** What one census found. */
export type CensusAnswer =
  /** A node has it: its reply, or `running` naming the node that has it in hand. */
  | Exclude<OutcomeAnswer, { kind: 'unknown' }>
  /** Every node listed answered `unknown`; `nodes` are their service ids (never empty). */
  | { readonly kind: 'nobody'; readonly nodes: readonly string[] }
  /** No node was listed, or one listed gave no answer (or an error): nothing can be concluded. */
  | { readonly kind: 'inconclusive' };

/**
 * The service ids of the nodes serving `subjects`' prefix that answer a ping now; none when no node answers, or the
 * ping cannot be sent (a connection closing, permissions that refuse this client `$SRV` subjects).
 */
export async function listNodes(connection: NatsConnection, subjects: TetherSubjects): Promise<string[]> {
  const nodes = new Set<string>();
  try {
    // As long as the node watch waits for one node's ping: a node slower than that to answer misses a ping.
    const answers = await connection.requestMany(`$SRV.PING.${SERVICE_NAME}`, Empty, {
      strategy: RequestStrategy.Timer,
      maxWait: NODE_PING_TIMEOUT_MS,
    });
    for await (const answer of answers) {
      const ping = pingAnswer(answer.data);
      // Another deployment's nodes (another prefix) share the service name, not the subjects.
      if (typeof ping?.id === 'string' && NODE_ID.test(ping.id) && ping.metadata?.prefix === subjects.prefix)
        nodes.add(ping.id);
    }
  } catch {
    // What was heard before the failure still counts; a census with no node concludes nothing.
  }
  return [...nodes];
}

/** A micro service's ping answer, as far as a census reads it; `undefined` for a body that is not one. */
function pingAnswer(data: Uint8Array): { id?: unknown; metadata?: { prefix?: unknown } } | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks every node at once and each node listed now on its own outcome subject what became of `executionId`. Given
 * `deadline` (ms since 1970), when its caller stops waiting for it, for a census the caller may conclude from: a node
 * with no record of it then will not run it, should it take it late (a node that stalled, see searched-executions.ts).
 */
export async function takeCensus(
  connection: NatsConnection,
  subjects: TetherSubjects,
  execution: { readonly sessionId: string; readonly moduleId: string; readonly executionId: string },
  deadline?: number,
): Promise<CensusAnswer> {
  const subject = (nodeId: string) => subjects.executionOutcome(nodeId, execution.sessionId, execution.moduleId);
  const ask = (nodeId: string) => askExecutionOutcome(connection, subject(nodeId), execution.executionId, deadline);
  const [everyNode, nodes] = await Promise.all([
    // Only a node that has it answers; silence is a timeout.
    ask(ALL_NODES).catch(() => undefined),
    listNodes(connection, subjects),
  ]);
  if (everyNode !== undefined && everyNode.kind !== 'unknown') return everyNode;
  if (nodes.length === 0) return { kind: 'inconclusive' };
  const answers = await Promise.allSettled(nodes.map(ask));
  let unknown = 0;
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'rejected') continue;
    const outcome = answer.value;
    if (outcome.kind === 'finished') return outcome;
    // The node that answers names itself; the one asked is the same node.
    if (outcome.kind === 'running') return { kind: 'running', nodeId: outcome.nodeId ?? nodes[i] };
    unknown += 1;
  }
  return unknown === nodes.length ? { kind: 'nobody', nodes } : { kind: 'inconclusive' };
}
