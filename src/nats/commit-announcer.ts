/**
 * The announcement of the writes a node committed, each with the value it replaced, to the tracking store's
 * listeners (see tracking-store.ts): only the node that commits a write knows it was its own, so it alone
 * announces it, and each event is published exactly once. Announcements keep commit order even when an old value
 * must first be looked up in the key's history, which is why they are queued here rather than told directly.
 * @module
 */
import type { VariableRecord } from '../variables/types.js';

/** One write this node committed: the record it replaced and the record it wrote (`undefined` for a delete). */
export interface CommittedChange {
  readonly key: string;
  readonly revision: number;
  readonly before: VariableRecord | undefined;
  readonly after: VariableRecord | undefined;
  /** The life of the session the write was made in, as noted with `TrackingStore.noteLife` when committed. */
  readonly incarnation?: string;
  /** Who deleted, for a delete that named someone (a put's writer is in its record). */
  readonly updatedBy?: string;
  /**
   * Set when the write replaced a record this node could not read (its history lookup failed, or the history no
   * longer held it): `before` is then `undefined` though there was one, and the change is no definition.
   */
  readonly beforeUnknown?: true;
}

/** Told about this node's committed writes, in commit order. */
export type CommittedListener = (change: CommittedChange) => void;

/** Stands for a replaced record the node could not read: see {@link CommittedChange.beforeUnknown}. */
export const UNKNOWN_BEFORE: unique symbol = Symbol('unknown replaced record');

/** A replaced record, none (`undefined`), or {@link UNKNOWN_BEFORE}. */
type Before = VariableRecord | undefined | typeof UNKNOWN_BEFORE;

/** The record a committed write replaced: at hand, or coming from a lookup in the key's history. */
export type CommittedBefore = Before | Promise<Before>;

/** Tells a node's committed writes to its listeners, in commit order. */
export class CommitAnnouncer {
  readonly #listeners = new Set<CommittedListener>();
  // Events are emitted strictly in commit order, even when one needs an asynchronous history lookup.
  #emitting: Promise<void> = Promise.resolve();
  /** Announcements queued behind a history lookup; while any is, later ones queue too. */
  #waitingLookups = 0;

  /** `report` is told when a listener throws; the others are told all the same. */
  constructor(private readonly report: (error: unknown) => void) {}

  /** Whether any listener is registered: without one, a commit has nothing to announce. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** Registers a listener; returns the function that removes it. */
  add(listener: CommittedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Announces one commit's writes, with the records they replaced (`befores`, read before the commit was sent),
   * their revisions and the lives of their sessions (`incarnations`, read at the commit).
   */
  announce(
    writes: readonly { key: string; value: VariableRecord | undefined; updatedBy?: string | undefined }[],
    befores: readonly CommittedBefore[],
    revisions: readonly number[],
    incarnations: readonly (string | undefined)[],
  ): void {
    const announce = (change: CommittedChange): void => {
      for (const listener of this.#listeners) {
        try {
          listener(change);
        } catch (error) {
          this.report(error);
        }
      }
    };
    const changeOf = (i: number, before: Before): CommittedChange => ({
      key: writes[i]!.key,
      revision: revisions[i] ?? 0,
      before: before === UNKNOWN_BEFORE ? undefined : before,
      ...(before === UNKNOWN_BEFORE ? { beforeUnknown: true } : {}),
      after: writes[i]!.value,
      ...(incarnations[i] === undefined ? {} : { incarnation: incarnations[i] }),
      ...(writes[i]!.updatedBy === undefined ? {} : { updatedBy: writes[i]!.updatedBy }),
    });
    // Announced now, with the commit, when every old value is at hand: the node's listener only queues the event
    // (see event-outbox.ts), so a service reply that follows carries it ahead of itself in the same socket write.
    // A write whose old value needs a history lookup waits for it, and every later write's events wait their turn
    // behind it, so events stay in commit order; `settled()` covers those.
    if (this.#waitingLookups === 0 && befores.every((before) => !(before instanceof Promise))) {
      befores.forEach((before, i) => announce(changeOf(i, before as Before)));
      return;
    }
    this.#waitingLookups += 1;
    this.#emitting = this.#emitting
      .then(async () => {
        for (const [i, before] of befores.entries()) announce(changeOf(i, await before));
      })
      .finally(() => (this.#waitingLookups -= 1));
  }

  /** Resolves once every commit so far has been announced; `undefined` when every one has been already. */
  settled(): Promise<void> | undefined {
    return this.#waitingLookups === 0 ? undefined : this.#emitting;
  }
}
