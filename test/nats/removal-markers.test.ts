import type { JetStreamManager } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_SKEW_MS } from '../../src/nats/bucket-stream.js';
import { MARKER_KEEP_MS, RemovalMarkers } from '../../src/nats/removal-markers.js';

/**
 * A stream manager holding one message per sequence given, whose deletes fail while `failing` says so. `time` is
 * when the stream took each message.
 */
function fakeManager(held: Map<number, { subject: string; time: Date }>, failing: () => boolean) {
  const deleted: number[] = [];
  const manager = {
    streams: {
      async getMessage(_stream: string, query: { seq: number; next_by_subj: string }) {
        const seqs = [...held.keys()].sort((a, b) => a - b);
        const seq = seqs.find((s) => s >= query.seq && held.get(s)!.subject === query.next_by_subj);
        if (seq === undefined) throw Object.assign(new Error('no message found'), { code: '404' });
        return { seq, ...held.get(seq)! };
      },
      async deleteMessage(_stream: string, seq: number) {
        if (failing()) throw new Error('JetStream not available');
        deleted.push(seq);
        return held.delete(seq);
      },
    },
  } as unknown as JetStreamManager;
  return { manager, deleted };
}

describe('removal of delete markers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('removes a marker once due, not before, and only messages of its key up to it', async () => {
    const held = new Map([
      [7, { subject: '$KV.m.s1.qa', time: new Date() }],
      [8, { subject: '$KV.m.s1.other', time: new Date() }],
      [9, { subject: '$KV.m.s1.qa', time: new Date() }],
    ]);
    const { manager, deleted } = fakeManager(held, () => false);
    const markers = new RemovalMarkers({
      manager: async () => manager,
      bucket: 'm',
      replicatedWindowMs: undefined,
      report: () => {},
    });
    markers.note('s1.qa', 7);

    await vi.advanceTimersByTimeAsync(MARKER_KEEP_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([7]);
    markers.close();
  });

  it('reports the first failure of a series once, tries again, and gives up after five attempts', async () => {
    let failures = 2;
    const held = new Map([
      [3, { subject: '$KV.m.s1.a', time: new Date() }],
      [4, { subject: '$KV.m.s1.b', time: new Date() }],
    ]);
    const { manager, deleted } = fakeManager(held, () => failures-- > 0);
    const reported: unknown[] = [];
    const markers = new RemovalMarkers({
      manager: async () => manager,
      bucket: 'm',
      replicatedWindowMs: undefined,
      keepMs: 100,
      report: (error) => reported.push(error),
    });
    markers.note('s1.a', 3);
    markers.note('s1.b', 4);

    await vi.advanceTimersByTimeAsync(100);
    expect(deleted).toEqual([]);
    expect(reported).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(deleted.sort()).toEqual([3, 4]);
    expect(reported).toHaveLength(1);

    failures = Infinity;
    held.set(5, { subject: '$KV.m.s1.c', time: new Date() });
    markers.note('s1.c', 5);
    await vi.advanceTimersByTimeAsync(100 * 10);
    expect(reported).toHaveLength(2);
    expect(held.has(5)).toBe(true);
    // Given up on: no timer is left running for it.
    expect(vi.getTimerCount()).toBe(0);
    markers.close();
  });

  it('on a replicated stream waits out the duplicate window and the clock allowance', async () => {
    const window = 120_000;
    const held = new Map([[2, { subject: '$KV.m.s1.qa', time: new Date() }]]);
    const { manager, deleted } = fakeManager(held, () => false);
    const markers = new RemovalMarkers({
      manager: async () => manager,
      bucket: 'm',
      replicatedWindowMs: window,
      report: () => {},
    });
    markers.note('s1.qa', 2);

    await vi.advanceTimersByTimeAsync(window + CLOCK_SKEW_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([2]);
    markers.close();
  });

  it('leaves what waits once closed, and notes nothing more', async () => {
    const held = new Map([[2, { subject: '$KV.m.s1.qa', time: new Date() }]]);
    const { manager, deleted } = fakeManager(held, () => false);
    const markers = new RemovalMarkers({
      manager: async () => manager,
      bucket: 'm',
      replicatedWindowMs: undefined,
      report: () => {},
    });
    markers.note('s1.qa', 2);
    markers.close();
    markers.note('s1.qa', 3);

    await vi.advanceTimersByTimeAsync(MARKER_KEEP_MS * 2);
    expect(deleted).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
