import { afterEach, describe, expect, it } from 'vitest';
import { CommitHoldback } from '../../src/nats/commit-holdback.js';
import type { CommitMark, StoreChange } from '../../src/store/store.js';

type Change = StoreChange<string>;

/** A put of `key` at `revision`, part of commit `commit` when given. */
const put = (key: string, revision: number, commit?: CommitMark): Change =>
  commit
    ? { operation: 'put', key, value: `${key}@${revision}`, revision, commit }
    : { operation: 'put', key, value: `${key}@${revision}`, revision };
const of = (id: string, size: number): CommitMark => ({ id, size });
const undoOf = (id: string): CommitMark => ({ undoes: id });
const revisions = (changes: readonly Change[]): string[] => changes.map((c) => `${c.key}@${c.revision}`);

const holdbacks: CommitHoldback<Change>[] = [];
afterEach(() => holdbacks.splice(0).forEach((holdback) => holdback.stop()));

/** A hold whose bound never runs out in a test: only changes release what it holds. */
function hold(): CommitHoldback<Change> {
  const holdback = new CommitHoldback<Change>(() => {
    throw new Error('the bound ran out');
  }, 3_600_000);
  holdbacks.push(holdback);
  return holdback;
}

/**
 * The router's hold of a commit's writes (commit-holdback.ts), driven change by change: what goes on, in what order,
 * and how low the router must stay.
 */
describe('a router holding the writes of a commit of several writes', () => {
  it('passes single writes at once, and a commit whole once its last write arrived, in revision order', () => {
    const h = hold();
    expect(revisions(h.take([put('s.x', 1)]))).toEqual(['s.x@1']);
    expect(h.take([put('s.a', 2, of('c', 2))])).toEqual([]);
    expect(h.lowestHeld()).toBe(2);
    expect(revisions(h.take([put('s.y', 3), put('s.b', 4, of('c', 2))]))).toEqual(['s.a@2', 's.y@3', 's.b@4']);
    expect(h.lowestHeld()).toBeUndefined();
  });

  it('releases a held commit as it is before a later change to one of its keys', () => {
    const h = hold();
    h.take([put('s.a', 2, of('c', 3)), put('s.b', 3, of('c', 3))]);
    expect(revisions(h.take([put('s.b', 5)]))).toEqual(['s.a@2', 's.b@3', 's.b@5']);
    // Its last write, late, goes on as it comes: released once, never held again.
    expect(revisions(h.take([put('s.c', 6, of('c', 3))]))).toEqual(['s.c@6']);
    expect(h.lowestHeld()).toBeUndefined();
  });

  it('drops a write when its undo comes, and keeps the others held until their own undo', () => {
    const h = hold();
    h.take([put('s.a', 2, of('c', 3)), put('s.b', 3, of('c', 3))]);
    // Its write of `s.c` lost a race; the undo of `s.b` comes first and goes on by itself.
    expect(revisions(h.take([put('s.b', 5, undoOf('c'))]))).toEqual(['s.b@5']);
    expect(h.lowestHeld()).toBe(2);
    expect(revisions(h.take([put('s.a', 6, undoOf('c'))]))).toEqual(['s.a@6']);
    expect(h.lowestHeld()).toBeUndefined();
  });

  it('shows a write whose undo never comes as the bucket has it, once its key moves on', () => {
    const h = hold();
    h.take([put('s.a', 2, of('c', 3)), put('s.b', 3, of('c', 3))]);
    h.take([put('s.b', 5, undoOf('c'))]);
    // The undo of `s.a` failed: its write stays in the bucket, and goes on before the key's next change.
    expect(revisions(h.take([put('s.a', 7)]))).toEqual(['s.a@2', 's.a@7']);
  });

  it('hands what the bound releases to its callback, once', async () => {
    const released: string[][] = [];
    const h = new CommitHoldback<Change>((changes) => void released.push(revisions(changes)), 20);
    holdbacks.push(h);
    h.take([put('s.a', 2, of('c', 2))]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(released).toEqual([['s.a@2']]);
    expect(h.lowestHeld()).toBeUndefined();
    expect(revisions(h.take([put('s.b', 3, of('c', 2))]))).toEqual(['s.b@3']);
  });
});
