import type { JetStreamManager } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_SKEW_MS } from '../../src/nats/bucket-stream.js';
import { MARKER_KEEP_MS, RemovalMarkers, type RemovalMarkersDeps } from '../../src/nats/removal-markers.js';

/** The messages of a fake stream by sequence: each one's subject, and when the stream took it. */
type Held = Map<number, { subject: string; time: Date }>;

/** Messages of bucket `m` on these keys, at sequences 1, 2, 3… taken now. */
const heldOn = (...keys: string[]): Held =>
  new Map(keys.map((key, i) => [i + 1, { subject: `$KV.m.${key}`, time: new Date() }]));

/**
 * Removal of markers in bucket `m` of a fake stream holding `held`, whose deletes fail while `failing` says so;
 * `deleted` lists the sequences deleted, in order.
 */
function markersOn(held: Held, deps: Partial<RemovalMarkersDeps> = {}, failing: () => boolean = () => false) {
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
  const markers = new RemovalMarkers({
    manager: async () => manager,
    bucket: 'm',
    replicatedWindowMs: undefined,
    report: () => {},
    ...deps,
  });
  return { markers, deleted };
}

describe('removal of delete markers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('removes a marker once due, not before, and only messages of its key up to it', async () => {
    const held = heldOn('s1.qa', 's1.other', 's1.qa');
    const { markers, deleted } = markersOn(held);
    markers.note('s1.qa', 1);

    await vi.advanceTimersByTimeAsync(MARKER_KEEP_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([1]);
    expect([...held.keys()]).toEqual([2, 3]);
    markers.close();
  });

  it('reports the first failure of a series once, tries again, and gives up after five attempts', async () => {
    let failures = 2;
    const held = heldOn('s1.a', 's1.b');
    const reported: unknown[] = [];
    const report = (error: unknown): void => void reported.push(error);
    const { markers, deleted } = markersOn(held, { keepMs: 100, report }, () => failures-- > 0);
    markers.note('s1.a', 1);
    markers.note('s1.b', 2);

    await vi.advanceTimersByTimeAsync(100);
    expect(deleted).toEqual([]);
    expect(reported).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(deleted.sort()).toEqual([1, 2]);
    expect(reported).toHaveLength(1);

    failures = Infinity;
    held.set(3, { subject: '$KV.m.s1.c', time: new Date() });
    markers.note('s1.c', 3);
    await vi.advanceTimersByTimeAsync(100 * 10);
    expect(reported).toHaveLength(2);
    expect(held.has(3)).toBe(true);
    // Given up on: no timer is left running for it.
    expect(vi.getTimerCount()).toBe(0);
    markers.close();
  });

  it('on a replicated stream waits out the duplicate window and the clock allowance', async () => {
    const window = 120_000;
    const { markers, deleted } = markersOn(heldOn('s1.qa'), { replicatedWindowMs: window });
    markers.note('s1.qa', 1);

    await vi.advanceTimersByTimeAsync(window + CLOCK_SKEW_MS - 1);
    expect(deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deleted).toEqual([1]);
    markers.close();
  });

  it('leaves what waits once closed, and notes nothing more', async () => {
    const { markers, deleted } = markersOn(heldOn('s1.qa', 's1.qa'));
    markers.note('s1.qa', 1);
    markers.close();
    markers.note('s1.qa', 2);

    await vi.advanceTimersByTimeAsync(MARKER_KEEP_MS * 2);
    expect(deleted).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
