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
 * - the undo of a commit drops what is held of it; the undo itself goes on (it puts the old record back at a new
 *   revision, which a session that never saw the write takes silently, see apply-store-change.ts);
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

/** Ids of commits released or dropped that are remembered: a write of one arriving after is not held again. */
const GONE_KEPT = 1024;

interface Held<C> {
  readonly size: number;
  readonly changes: C[];
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
      // An undo first drops the writes it reverts: they were never accepted.
      if (mark !== undefined && 'undoes' in mark) this.#drop(mark.undoes);
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
      held = { size: mark.size, changes: [], timer };
      this.#held.set(mark.id, held);
    }
    held.changes.push(change);
    this.#byKey.set(change.key, mark.id);
    if (held.changes.length < held.size) return false;
    this.#release(mark.id, out);
    return true;
  }

  /** Moves commit `id`'s held writes to `out`. */
  #release(id: string, out: C[]): void {
    const held = this.#forget(id);
    if (held) out.push(...held.changes);
  }

  /** Forgets commit `id`'s held writes: its undo is on the way (or here), they were never accepted. */
  #drop(id: string): void {
    this.#forget(id);
  }

  #forget(id: string): Held<C> | undefined {
    this.#gone.add(id);
    if (this.#gone.size > GONE_KEPT) this.#gone.delete(this.#gone.values().next().value!);
    const held = this.#held.get(id);
    if (held === undefined) return undefined;
    clearTimeout(held.timer);
    this.#held.delete(id);
    for (const change of held.changes) this.#byKey.delete(change.key);
    return held;
  }
}
