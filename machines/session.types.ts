/**
 * The session machine's vocabulary: what a session process starts from, the state it keeps, the events it accepts
 * and the events it emits. Apart from the machine so that its users can name them without reading its transitions.
 * @module
 */
import type { SerializedError } from '../src/errors.js';
import type { VariableChange } from '../src/session/session-context.js';
import type { WritePlan, WriteRequest } from '../src/session/write-plan.js';
import type { StoreChange, StoreEntry } from '../src/store/store.js';
import type { VariableRecord } from '../src/variables/types.js';
import type { PersistentQueue } from './persistent-queue.js';
import type { ReplyEvent } from './protocol.js';

/** What a session process starts from. */
export interface SessionMachineInput {
  readonly sessionId: string;
  /** Idle time after which the session expires. */
  readonly ttlMs: number;
}

/** A write waiting its turn; `callId` is absent on a cast. */
export interface QueuedWrite {
  readonly callId?: string | undefined;
  readonly request: WriteRequest;
  /** The request as its caller sent it: `request` moves on as a batch is carried out name by name. */
  readonly sent: WriteRequest;
  /**
   * A batch carried on name by name: the highest store revision its commits produced so far, which its answer
   * carries (a client waits for it before its next read). Absent until the first of them committed.
   */
  readonly revision?: number | undefined;
}

/** A session process's queued writes, each known by the request as its caller sent it (`sent`). */
export type WriteQueue = PersistentQueue<QueuedWrite>;

/** The session process's state. */
export interface SessionMachineContext {
  readonly sessionId: string;
  readonly ttlMs: number;
  /**
   * The variables as last seen from the store. Owned by this process and updated in place by every store
   * change it folds in, never replaced: copying both maps per change made each routed update cost
   * O(variables). So every snapshot of a process shares these two maps, and they always hold the current
   * variables; a tool that keeps snapshots and needs the values of the time copies them when it takes them.
   * {@link SessionMachineContext.appliedRevision} changes with each change folded in, and with it the snapshot.
   */
  readonly variables: ReadonlyMap<string, VariableRecord>;
  readonly revisions: ReadonlyMap<string, number>;
  /** The highest store revision this process has folded in (its own commits, the load, other writers). */
  readonly appliedRevision: number;
  /** The writes waiting their turn, oldest first, the one in flight first (iterable; `length`; JSON as an array). */
  readonly queue: WriteQueue;
  readonly inFlight: WritePlan | null;
  readonly attempts: number;
  readonly failure: SerializedError | null;
  /**
   * A stop that arrived while a write was in flight. The write finishes first: stopping mid-commit would tell
   * its caller `session_stopped` for a write the store may already hold. `callId` null: a stop without a caller.
   */
  readonly pendingStop: { readonly callId: string | null; readonly ending: PendingEnding } | null;
}

/** The final state a stop or an end deferred by a write leads to. */
export type PendingEnding = 'stopped' | 'deleted' | 'expired';

/** The answer to a write: the planner's reply and the highest store revision the write produced. */
export interface WriteReply {
  readonly value: unknown;
  readonly revision: number;
}

/** Events a session process accepts. */
export type SessionMachineEvent =
  | { readonly type: 'write'; readonly callId?: string; readonly request: WriteRequest }
  | { readonly type: 'stop'; readonly callId?: string }
  /** The session was deleted, or expired on every node: the process ends as `deleted` or `expired`. */
  | { readonly type: 'session.end'; readonly reason: 'deleted' | 'expired' }
  | { readonly type: 'store.loaded'; readonly entries: readonly StoreEntry<VariableRecord>[] }
  | { readonly type: 'store.loadFailed'; readonly error: SerializedError }
  | { readonly type: 'store.changed'; readonly changes: readonly StoreChange<VariableRecord>[] }
  | { readonly type: 'store.committed'; readonly revisions: readonly number[] }
  /**
   * The write lost a compare-and-set race: `changes` is the store's current state of each key the plan wrote or was
   * judged on, `key` the one whose compare-and-set failed, when the store said.
   */
  | {
      readonly type: 'store.conflict';
      readonly changes: readonly StoreChange<VariableRecord>[];
      readonly key?: string | undefined;
    }
  | { readonly type: 'store.failed'; readonly error: SerializedError }
  | { readonly type: 'write.settled' }
  /** The caller of `request` stopped waiting (its call timed out): taken out of the queue unless it has started. */
  | { readonly type: 'write.withdraw'; readonly request: WriteRequest }
  | { readonly type: 'session.expire' }
  | { readonly type: 'session.hibernate' };

/** Announced to the outside for every accepted value write, in version order. */
export interface VariableChangedEvent {
  readonly type: 'variable.changed';
  readonly sessionId: string;
  readonly change: VariableChange;
}

/** Events a session process emits. */
export type SessionEmittedEvent = ReplyEvent | VariableChangedEvent;
