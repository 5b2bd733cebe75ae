/**
 * A router's hold on a commit's writes, so that a node's session processes see a batch whole or not at all.
 *
 * A commit of several writes on KV is several messages (kv-commit.ts), each marked with the commit's id and size
 * (commit-mark.ts). Handed on as they arrive, a watcher on any node could see a batch partly applied, and after a
 * lost race its writes, their undo, then the retry: a version twice, and one never accepted. So the router passes
 * every change through here first:
 *
 * - a write of a commit is held until all of the commit's writes arrived, then they go on together (in the
 *   hand-over where the last one arrives, so each session gets them in one `store.changed` event);
 * - the undo of a key of a commit drops the commit's held write of that key; the undo itself goes on (it puts the
 *   old record back at a new revision, which a session that never saw the write takes silently, see
 *   apply-store-change.ts). Each key is undone on its own and an undo can fail (a third writer got there first, an
 *   outage): a write of the commit whose undo has not come stays held, and goes on as it is, as the bucket has it,
 *   when the bound or a later change to its key releases it;
 * - a later change to a key with a held write releases that write's commit as it is (the key has moved on: the
 *   commit is left partly applied, or was written over), before that change;
 * - a commit still incomplete {@link COMMIT_HOLD_MS} after its first write arrived is released as it is.
 *
 * Single writes carry no mark and pass with one field check each. While anything is held, the router's position
 * stays below it (router-watch.ts), so a read that waits for a held revision waits for its release.
 * @module
 */
import type { CommitMark, StoreChange } from '../store/store.js';

/**
 * How long a commit's writes are held for the rest of them. Its writes are published back to back and land within
 * a millisecond or so; only a writer stopped between them (its process or connection gone) or a stream leader
 * election among them (the writes retried for up to 15 s) keeps them apart. Then what landed is shown as it is, as
 * it would have been without the hold. One second keeps a request waiting for a held revision (read-your-writes,
 * at most 2 s by default) answered rather than timed out.
 */
export const COMMIT_HOLD_MS = 1000;

/**
 * Ids of commits released before all their writes arrived, or being undone, that are remembered: a write of one
 * arriving after is not held again. A commit released whole takes no place: nothing of it can come after.
 */
const GONE_KEPT = 1024;

interface Held<C> {
  readonly size: number;
  /** The writes held, without those an undo dropped. */
  readonly changes: C[];
  /** How many writes arrived (dropped ones included): the commit is whole when that is its size. */
  arrived: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

type Change = StoreChange<unknown>;

/** Whether any change is part of a commit of several writes or of an undo (a plain loop: this runs per delivery). */
function anyMarked(changes: readonly Change[]): boolean {
  for (let i = 0; i < changes.length; i += 1) if (changes[i]!.commit !== undefined) return true;
  return false;
}

type WriteMark = Extract<CommitMark, { id: string }>;

/** Holds commits' writes for one router; `late` hands over what the bound releases outside a delivery. */
export class CommitHoldback<C extends Change> {
  readonly #held = new Map<string, Held<C>>();
  /** For each key with a held write, the commit holding it. */
  readonly #byKey = new Map<string, string>();
  readonly #gone = new Set<string>();

  constructor(
    private readonly late: (changes: readonly C[]) => void,
    private readonly holdMs: number = COMMIT_HOLD_MS,
  ) {}

  /** What of `changes` (a delivery, in revision order) goes on now, in revision order; the rest is held. */
  take(changes: readonly C[]): readonly C[] {
    if (this.#held.size === 0 && !anyMarked(changes)) return changes;
    const out: C[] = [];
    let released = false;
    for (const change of changes) {
      const mark = change.commit;
      // An undo first drops the write it reverts: it was never accepted.
      if (mark !== undefined && 'undoes' in mark) this.#drop(mark.undoes, change.key);
      const holder = this.#byKey.get(change.key);
      if (holder !== undefined) {
        // The key moved on past a held write: its commit goes on as it is, ahead of this change.
        this.#release(holder, out);
        released = true;
      }
      if (mark === undefined || 'undoes' in mark) out.push(change);
      else if (this.#hold(mark, change, out)) released = true;
    }
    // Released writes came before changes already passed on in this delivery.
    return released ? out.sort((a, b) => a.revision - b.revision) : out;
  }

  /** The lowest held revision; `undefined` when nothing is held. */
  lowestHeld(): number | undefined {
    if (this.#held.size === 0) return undefined;
    let lowest: number | undefined;
    for (const held of this.#held.values()) {
      const first = held.changes[0]!.revision;
      if (lowest === undefined || first < lowest) lowest = first;
    }
    return lowest;
  }

  /** Drops everything held, for a router that stops. */
  stop(): void {
    for (const held of this.#held.values()) clearTimeout(held.timer);
    this.#held.clear();
    this.#byKey.clear();
  }

  /** Holds `change`, a write of commit `mark`; true when that completed the commit, now in `out`. */
  #hold(mark: WriteMark, change: C, out: C[]): boolean {
    if (this.#gone.has(mark.id)) {
      out.push(change);
      return false;
    }
    let held = this.#held.get(mark.id);
    if (held === undefined) {
      const timer = setTimeout(() => {
        const late: C[] = [];
        this.#release(mark.id, late);
        if (late.length > 0) this.late(late);
      }, this.holdMs);
      // A held commit must not keep a process alive that has nothing else to do.
      timer.unref?.();
      held = { size: mark.size, changes: [], arrived: 0, timer };
      this.#held.set(mark.id, held);
    }
    held.changes.push(change);
    held.arrived += 1;
    this.#byKey.set(change.key, mark.id);
    if (held.arrived < held.size) return false;
    this.#release(mark.id, out);
    return true;
  }

  /** Moves commit `id`'s held writes to `out`. */
  #release(id: string, out: C[]): void {
    const held = this.#held.get(id);
    if (held === undefined) return;
    // Released short of its size, the rest of it may still come: it must then go on, not be held again.
    this.#forget(id, held, held.arrived < held.size);
    out.push(...held.changes);
  }

  /** Drops commit `id`'s held write of `key`: its undo is here, it was never accepted. */
  #drop(id: string, key: string): void {
    // Being undone, the commit can never be whole: whatever of it comes later goes on as it is.
    this.#remember(id);
    const held = this.#held.get(id);
    if (held === undefined) return;
    const index = held.changes.findIndex((change) => change.key === key);
    if (index < 0) return;
    held.changes.splice(index, 1);
    this.#byKey.delete(key);
    if (held.changes.length === 0) this.#forget(id, held, false);
  }

  #forget(id: string, held: Held<C>, remember: boolean): void {
    if (remember) this.#remember(id);
    clearTimeout(held.timer);
    this.#held.delete(id);
    for (const change of held.changes) this.#byKey.delete(change.key);
  }

  #remember(id: string): void {
    this.#gone.add(id);
    if (this.#gone.size > GONE_KEPT) this.#gone.delete(this.#gone.values().next().value!);
  }
}
