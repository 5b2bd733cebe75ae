/**
 * The executions a caller searched the nodes for while this node had no record of them. A remote client that hears
 * from no node about its execution asks every node what became of it (a census, execution-census.ts), and once two
 * censuses find no live node with it, gives it up: `execution_unknown`, "no node took it". A node that stalled (a
 * long GC pause, a frozen VM) with the execute in its socket did not answer; resumed, it would take the execute and
 * run it, provider calls and all, for a caller that was told it went nowhere. The client's cancel cannot stop that
 * for sure: it reaches the stalled node through another node, and may come after the node resumed.
 *
 * So the questions of a census the client may conclude from (taker-search.ts) carry `Tether-Search-Deadline`
 * (search-deadline.ts), the execution's deadline, and a node that has no record of the execution remembers it until
 * then (and the second's grace after it, when the node would refuse it as past its deadline anyway). An execute it
 * takes more than {@link UNTAKEN_AFTER_MS} after it left starts only once the node has heard all that its server
 * had for it before (a flush, endpoint-handler.ts): if that included such a question, the node refuses it,
 * `execution_aborted` with `details.outcome: 'not_applied'`. The census a client concludes from was taken past
 * that time, and its questions were at the node's server before the client concluded; so a node that stalled alone
 * (its server did not) runs no execution whose caller was told no node took it. Where its server stalled with it, or
 * a route to it lags, the question may come after the flush, and the cancel is what is left.
 *
 * A node that resumes while that last census is taken (2 s) refuses the execution too, for a caller that has not
 * concluded yet: it gets that refusal rather than `execution_unknown`; nothing ran either way. Censuses that cannot
 * conclude carry no header: those of a client cut off by a frozen server reach the nodes with the execute once it is
 * back, and the node that takes it then runs it for the caller still waiting. So does a node that takes it sooner
 * (its caller has not given up, and the censuses come after the execute), and one that takes an execute no census
 * asked about (its caller's connection was down, or it sent no `Tether-Deadline`).
 * @module
 */
import { ExecutionAbortedError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { ExpiringKeys } from './expiring-keys.js';
import { executionReplyKey } from './execution-replies.js';
import { DEADLINE_GRACE_MS, takenLate } from './request-deadline.js';
import { UNTAKEN_AFTER_MS } from './taker-search.js';

/** The executions searched for while this node had none of them (see the module comment). */
export class SearchedExecutions {
  readonly #searched = new ExpiringKeys();

  /**
   * A search for the execution `key` (see `executionReplyKey`) found no record of it here: it is remembered until
   * `deadline` (its caller's, plus the grace a late request gets before it is refused as past its deadline anyway).
   */
  searched(key: string, deadline: number): void {
    // The caller's deadline is on its wall clock, which must agree with this node's; the time left is read off it once
    // and then counted on the monotonic clock, so that a step of this node's clock does not move it.
    this.#searched.add(key, Math.min(deadline - Date.now(), MAX_TIMEOUT_MS) + DEADLINE_GRACE_MS);
  }

  /**
   * The refusal of an execute with deadline header `deadlineHeader` taken now, when it is taken late and a search
   * for it found no record of it here; `undefined` when it may run.
   */
  refusal(
    sessionId: string,
    moduleId: string,
    executionId: string,
    deadlineHeader: string | undefined,
  ): ExecutionAbortedError | undefined {
    // Nothing searched for (the usual case): the header is not even read.
    if (this.#searched.size === 0 || !takenLate(deadlineHeader, UNTAKEN_AFTER_MS)) return undefined;
    if (!this.#searched.take(executionReplyKey(sessionId, moduleId, executionId))) return undefined;
    return new ExecutionAbortedError(moduleId, executionId, {
      details: {
        reason:
          `this node took it more than ${UNTAKEN_AFTER_MS / 1000} s after it left (it stalled), after its caller had ` +
          `asked every node for it and this node had no record of it; it did not run`,
        outcome: 'not_applied',
      },
    });
  }
}
