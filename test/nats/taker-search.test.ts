import type { Msg } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CensusAnswer } from '../../src/nats/execution-census.js';
import { NODE_PING_INTERVAL_MS, NODE_RECONNECT_GRACE_MS } from '../../src/nats/node-watch.js';
import {
  NOBODY_CENSUSES,
  searchForTaker,
  TAKER_SEARCH_AFTER_MS,
  UNTAKEN_NOT_BEFORE_MS,
} from '../../src/nats/taker-search.js';
import { manualLink } from '../support/manual-link.js';

const nobody: CensusAnswer = { kind: 'nobody', nodes: ['n1', 'n2'] };

/** A search whose censuses answer what the test queues, in order (`inconclusive` once the queue is empty). */
function search(answers: CensusAnswer[]) {
  const manual = manualLink();
  const found = { running: vi.fn<(nodeId: string) => void>(), settle: vi.fn() };
  let taken = 0;
  const census = vi.fn(async (_mayConclude: boolean): Promise<CensusAnswer> => {
    taken += 1;
    return answers.shift() ?? { kind: 'inconclusive' };
  });
  const searching = searchForTaker(manual.link, census, found);
  return { ...manual, found, census, searching, taken: () => taken };
}

/** Lets the time pass by `ms` and the censuses taken meanwhile answer. */
async function pass(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('the search for the node that took a request', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  it('takes no census before a notice was due, then one per ping interval', async () => {
    const s = search([]);
    await pass(TAKER_SEARCH_AFTER_MS - 1);
    expect(s.taken()).toBe(0);
    await pass(1);
    expect(s.taken()).toBe(1);
    await pass(NODE_PING_INTERVAL_MS * 3);
    expect(s.taken()).toBe(4);
    s.searching.stop();
  });

  it(`gives up only after ${NOBODY_CENSUSES} censuses in a row found no node with it, once nodes take it no more`, async () => {
    const s = search([nobody, nobody, nobody, nobody, { kind: 'inconclusive' }, nobody, nobody]);
    // Four in a row before the request's deadline and its grace were past: a stalled node could still take it.
    await pass(TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS * 3);
    expect(s.taken()).toBe(4);
    expect(TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS * 3).toBeLessThan(UNTAKEN_NOT_BEFORE_MS);
    expect(s.found.settle).not.toHaveBeenCalled();
    // A census that concluded nothing starts the count again.
    await pass(UNTAKEN_NOT_BEFORE_MS - (TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS * 3));
    expect(s.taken()).toBe(5);
    await pass(NODE_PING_INTERVAL_MS);
    expect(s.found.settle).not.toHaveBeenCalled();
    await pass(NODE_PING_INTERVAL_MS);
    expect(s.found.settle).toHaveBeenCalledExactlyOnceWith(nobody);
    // Over: no census after it.
    await pass(NODE_PING_INTERVAL_MS * 3);
    expect(s.taken()).toBe(7);
  });

  it('asks the nodes to refuse it, should they take it late, in the censuses that may settle the search only', async () => {
    const s = search(Array.from({ length: 10 }, () => nobody));
    await pass(UNTAKEN_NOT_BEFORE_MS);
    expect(s.found.settle).toHaveBeenCalledExactlyOnceWith(nobody);
    // The first follows no census that found nobody; the next two are taken more than the shortest census that
    // finds nobody (its listing's wait) before UNTAKEN_NOT_BEFORE_MS, so they cannot settle it.
    const asked = s.census.mock.calls.map(([mayConclude]) => mayConclude);
    expect(asked).toEqual([false, false, false, true, true]);
  });

  it('settles from no census that did not ask the nodes so, one answered late included', async () => {
    const manual = manualLink();
    const found = { running: vi.fn(), settle: vi.fn() };
    const asked: boolean[] = [];
    // The second census, not asked to settle anything (taken 8 s before the search may end), answers 7 s later.
    const census = async (mayConclude: boolean): Promise<CensusAnswer> => {
      asked.push(mayConclude);
      if (asked.length === 2) await new Promise((resolve) => setTimeout(resolve, 7_000));
      return nobody;
    };
    searchForTaker(manual.link, census, found);
    await pass(TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS + 7_000);
    expect(TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS + 7_000).toBeGreaterThan(UNTAKEN_NOT_BEFORE_MS);
    expect(asked).toEqual([false, false]);
    expect(found.settle).not.toHaveBeenCalled();
    // The next one asks them so, and settles it.
    await pass(NODE_PING_INTERVAL_MS);
    expect(asked).toEqual([false, false, true]);
    expect(found.settle).toHaveBeenCalledExactlyOnceWith(nobody);
  });

  it('hands over the node that has it in hand, and the reply a node kept', async () => {
    const running = search([nobody, { kind: 'running', nodeId: 'n2' }]);
    await pass(TAKER_SEARCH_AFTER_MS + NODE_PING_INTERVAL_MS);
    expect(running.found.running).toHaveBeenCalledExactlyOnceWith('n2');
    expect(running.found.settle).not.toHaveBeenCalled();

    const reply = {} as Msg;
    const finished = search([{ kind: 'finished', reply }]);
    await pass(TAKER_SEARCH_AFTER_MS);
    expect(finished.found.settle).toHaveBeenCalledExactlyOnceWith({ kind: 'finished', reply });
    await pass(NODE_PING_INTERVAL_MS * 2);
    expect(finished.taken()).toBe(1);
  });

  it('asks at once when the connection is back, and counts no node missing until the nodes had time to be back too', async () => {
    const s = search(Array.from({ length: 10 }, () => nobody));
    await pass(TAKER_SEARCH_AFTER_MS);
    s.drop();
    // Down: no census is taken.
    await pass(NODE_PING_INTERVAL_MS * 2);
    expect(s.taken()).toBe(1);
    s.back();
    await pass(0);
    expect(s.taken()).toBe(2);
    // Within the grace, censuses that find nobody do not count.
    await pass(NODE_RECONNECT_GRACE_MS - 1);
    expect(s.found.settle).not.toHaveBeenCalled();
    await pass(NODE_PING_INTERVAL_MS * NOBODY_CENSUSES);
    expect(s.found.settle).toHaveBeenCalledExactlyOnceWith(nobody);
  });

  it('drops a census taken across a drop of the connection', async () => {
    const manual = manualLink();
    const found = { running: vi.fn(), settle: vi.fn() };
    let answer: (value: CensusAnswer) => void = () => {};
    const census = () => new Promise<CensusAnswer>((resolve) => (answer = resolve));
    searchForTaker(manual.link, census, found);
    await pass(TAKER_SEARCH_AFTER_MS);
    manual.drop();
    answer({ kind: 'running', nodeId: 'n1' });
    await pass(0);
    expect(found.running).not.toHaveBeenCalled();
  });

  it('stops for good', async () => {
    const s = search([{ kind: 'running', nodeId: 'n1' }]);
    s.searching.stop();
    await pass(TAKER_SEARCH_AFTER_MS * 5);
    expect(s.taken()).toBe(0);
    s.back();
    await pass(0);
    expect(s.taken()).toBe(0);
    expect(s.listeners.size).toBe(0);
  });
});
