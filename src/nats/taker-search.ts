/**
 * The search for the node that has a request's execution while its caller has heard from none: no acceptance
 * notice, no reply. A node that takes an execution says so at the end of the turn that took it, so a request
 * unacknowledged after {@link TAKER_SEARCH_AFTER_MS} was lost on its way, or taken by a node that died before it
 * answered (one that finishes in the turn that took it sends no notice), or its notice was lost in an outage of the
 * caller's connection. A census of the nodes (execution-census.ts) tells which: then again every
 * {@link NODE_PING_INTERVAL_MS}, and at once each time the caller's connection is back (a reply sent while it was
 * away is kept by the node that ran it).
 *
 * A census that finds the reply, or the node that has the execution in hand, ends the search. One that finds that
 * no live node has it counts only when {@link NOBODY_CENSUSES} of them say so in a row, a ping interval apart, with
 * the caller's connection up since before the first and not back for less than {@link NODE_RECONNECT_GRACE_MS}
 * (the nodes may be reconnecting after the same outage, and answer no ping until they are): a node slow to answer
 * for that long is lost by the node watch's measure too (node-watch.ts), and only from {@link UNTAKEN_NOT_BEFORE_MS}
 * after the request left, when a node that takes it holds it as late. The caller then stops waiting for a reply
 * nobody will send, seconds after the request left instead of at the end of its timeout.
 * @module
 */
import type { Msg } from 'nats';
import type { ConnectionLink } from './connection-link.js';
import type { CensusAnswer } from './execution-census.js';
import { NODE_PING_INTERVAL_MS, NODE_PING_TIMEOUT_MS, NODE_RECONNECT_GRACE_MS } from './node-watch.js';

/** How long after a request left without a word from any node the first census is taken. */
export const TAKER_SEARCH_AFTER_MS = NODE_PING_INTERVAL_MS;

/** Censuses in a row, a ping interval apart, that must find no live node with it before the caller gives up. */
export const NOBODY_CENSUSES = 2;

/**
 * How long after it left (as its `Tether-Deadline` tells: its deadline less its wait) an execution taken by a node is
 * late: the node starts it only once it has heard everything sent to it before (a flush of its connection), so that
 * the censuses of a caller searching for it come first, and stop it (see searched-executions.ts). A node that stalled
 * (a long GC pause, a frozen VM) then never runs an execution, and pays for its provider calls, for a caller that was
 * told it went nowhere.
 */
export const UNTAKEN_AFTER_MS = 8_000;

/**
 * How long after it left a request may be found untaken, and cancelled: past {@link UNTAKEN_AFTER_MS}, with 2 s for
 * the clocks of the caller and the node to disagree, so a node that takes it then holds it as late.
 */
export const UNTAKEN_NOT_BEFORE_MS = UNTAKEN_AFTER_MS + 2_000;

/**
 * The shortest a census that finds no node with the execution takes: its listing of the nodes waits out a ping's
 * wait for their answers (execution-census.ts).
 */
const NOBODY_CENSUS_SHORTEST_MS = NODE_PING_TIMEOUT_MS;

/** What ends the search. */
export interface TakerFound {
  /** The node `nodeId` has the execution in hand: the caller watches it from now on. */
  running(nodeId: string): void;
  /** Its reply, kept by the node that ran it; or `nodes`, the live nodes, have no record of it. */
  settle(
    answer:
      | { readonly kind: 'finished'; readonly reply: Msg }
      | { readonly kind: 'nobody'; readonly nodes: readonly string[] },
  ): void;
}

/**
 * Searches until a census ends it or `stop()` is called (see the module comment). `census(mayConclude)` takes one;
 * with `mayConclude`, it asks the nodes to refuse the execution should they take it late (searched-executions.ts).
 */
export function searchForTaker(
  link: ConnectionLink,
  census: (mayConclude: boolean) => Promise<CensusAnswer>,
  found: TakerFound,
): { stop(): void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every drop and return of the connection: a census taken across one says nothing. */
  let generation = 0;
  let nobodyInARow = 0;
  let graceUntil = 0;
  const nobodyFrom = performance.now() + UNTAKEN_NOT_BEFORE_MS;

  const later = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(take, ms);
  };
  const end = (then: () => void): void => {
    stop();
    then();
  };
  function take(): void {
    timer = undefined;
    if (stopped || link.down) return;
    const mine = generation;
    // Only a census that may settle the search (one after a census that found no node with it, that cannot be
    // answered before a node that takes the execution holds it as late) asks the nodes to refuse it should they take
    // it late, and only such a census settles it. So a node that stalled for less than the search takes is not
    // refused, and the censuses of a caller cut off by a frozen server conclude nothing: they leave the node that
    // takes the execution once the server is back free to run it for the caller still waiting.
    const mayConclude =
      nobodyInARow >= NOBODY_CENSUSES - 1 && performance.now() + NOBODY_CENSUS_SHORTEST_MS >= nobodyFrom;
    census(mayConclude).then(
      (answer) => {
        if (stopped || mine !== generation) return;
        if (answer.kind === 'finished') return end(() => found.settle(answer));
        if (answer.kind === 'running' && answer.nodeId !== undefined) {
          const { nodeId } = answer;
          return end(() => found.running(nodeId));
        }
        if (answer.kind === 'nobody' && performance.now() >= graceUntil) nobodyInARow += 1;
        else nobodyInARow = 0;
        if (
          answer.kind === 'nobody' &&
          mayConclude &&
          nobodyInARow >= NOBODY_CENSUSES &&
          performance.now() >= nobodyFrom
        ) {
          return end(() => found.settle(answer));
        }
        later(NODE_PING_INTERVAL_MS);
      },
      () => {
        if (stopped || mine !== generation) return;
        nobodyInARow = 0;
        later(NODE_PING_INTERVAL_MS);
      },
    );
  }
  const unlisten = link.onChange((change) => {
    generation += 1;
    nobodyInARow = 0;
    clearTimeout(timer);
    timer = undefined;
    if (change !== 'reconnected') return;
    graceUntil = performance.now() + NODE_RECONNECT_GRACE_MS;
    take();
  });
  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    unlisten();
  }
  later(TAKER_SEARCH_AFTER_MS);
  return { stop };
}
