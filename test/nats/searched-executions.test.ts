import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExecutionAbortedError } from '../../src/errors.js';
import { executionReplyKey } from '../../src/nats/execution-replies.js';
import { DEADLINE_GRACE_MS } from '../../src/nats/request-deadline.js';
import { SearchedExecutions } from '../../src/nats/searched-executions.js';
import { UNTAKEN_AFTER_MS } from '../../src/nats/taker-search.js';

const NOW = 1_800_000_000_000;
const WAIT_MS = 120_000;
/** The `Tether-Deadline` of an execute that left `agoMs` ago for a wait of two minutes. */
const leftAgo = (agoMs: number): string => `${Date.now() - agoMs + WAIT_MS}/${WAIT_MS}`;

afterEach(() => vi.useRealTimers());

describe("a node's memory of the executions a census found no record of", () => {
  it('refuses such an execution taken late, once, and not one taken in time', () => {
    vi.useFakeTimers({ now: NOW });
    const searched = new SearchedExecutions();
    searched.searched(executionReplyKey('s', 'qa', 'ex-1'), NOW + WAIT_MS);
    expect(searched.refusal('s', 'qa', 'ex-1', leftAgo(UNTAKEN_AFTER_MS - 1))).toBeUndefined();
    // Another session's or module's execution of that id is not this one.
    expect(searched.refusal('other', 'qa', 'ex-1', leftAgo(UNTAKEN_AFTER_MS + 1))).toBeUndefined();
    expect(searched.refusal('s', 'other', 'ex-1', leftAgo(UNTAKEN_AFTER_MS + 1))).toBeUndefined();
    const refused = searched.refusal('s', 'qa', 'ex-1', leftAgo(UNTAKEN_AFTER_MS + 1));
    expect(refused).toBeInstanceOf(ExecutionAbortedError);
    expect(refused?.details).toMatchObject({ moduleId: 'qa', executionId: 'ex-1', outcome: 'not_applied' });
    // What it guards happens once.
    expect(searched.refusal('s', 'qa', 'ex-1', leftAgo(UNTAKEN_AFTER_MS + 1))).toBeUndefined();
    // An execute without a readable deadline is never held as late.
    searched.searched(executionReplyKey('s', 'qa', 'ex-2'), NOW + WAIT_MS);
    expect(searched.refusal('s', 'qa', 'ex-2', undefined)).toBeUndefined();
    expect(searched.refusal('s', 'qa', 'ex-2', 'soon')).toBeUndefined();
  });

  it('remembers one until its deadline and the grace after it, when the node would refuse it as past its deadline', () => {
    vi.useFakeTimers({ now: NOW });
    const searched = new SearchedExecutions();
    for (const id of ['at-end', 'past-end']) searched.searched(executionReplyKey('s', 'qa', id), NOW + 60_000);
    vi.advanceTimersByTime(60_000 + DEADLINE_GRACE_MS);
    expect(searched.refusal('s', 'qa', 'at-end', leftAgo(WAIT_MS))).toBeInstanceOf(ExecutionAbortedError);
    vi.advanceTimersByTime(1);
    expect(searched.refusal('s', 'qa', 'past-end', leftAgo(WAIT_MS))).toBeUndefined();
  });
});
