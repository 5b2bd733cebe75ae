/**
 * What the session machine reckons from its write queue and the write in flight: how often a write is tried, the
 * error of one that lost every race, the revision a write answers with or the view moves to, and whether a queued
 * write has started. Pure, apart from the machine so that its actions and `src/` read the same rules.
 * @module
 */
import type { SerializedError } from '../src/errors.js';
import { decide, failedOutcome, isNameByName } from '../src/session/name-by-name.js';
import { conflictedKey, contentionError } from '../src/session/write-contention.js';
import type { WriteRequest } from '../src/session/write-plan.js';
import { PersistentQueue } from './persistent-queue.js';
import type { QueuedWrite, SessionMachineContext, SessionMachineEvent, WriteQueue } from './session.types.js';

/**
 * How many times a write is tried when the store moved on under it before the caller gets a conflict. Against another
 * node writing the same variable in a loop, a retry wins about one race in two (measured: the writes that needed a
 * third try were about half of those that needed a second), so 10 tries lost one contended write in about a thousand
 * and 30 lose about one in a billion; a key that moves at every try still fails its write within about a second
 * (retries wait up to 50 ms each, `jitteredBackoff`), which is as long as it holds the session's queue.
 */
export const MAX_WRITE_ATTEMPTS = 30;

/** The error of the write in flight once it lost the compare-and-set race {@link MAX_WRITE_ATTEMPTS} times in a row. */
export function contentionOf(context: SessionMachineContext, event: SessionMachineEvent): SerializedError {
  const plan = context.inFlight;
  const expected = [...(plan?.writes ?? []), ...(plan?.checks ?? [])];
  const changes = event.type === 'store.conflict' ? event.changes : [];
  const key = conflictedKey(expected, changes, event.type === 'store.conflict' ? event.key : undefined);
  return contentionError(context.sessionId, key.slice(context.sessionId.length + 1), MAX_WRITE_ATTEMPTS);
}

/** The highest revision a queued write committed so far and `revisions`, 0 when none. */
export function revisionOf(head: QueuedWrite, revisions: readonly number[] = []): number {
  return Math.max(head.revision ?? 0, ...revisions);
}

/**
 * The queue with the name in flight of the batch at its head, carried on name by name, decided as failed with `error`:
 * the batch goes on with its other names.
 */
export function withNameInFlightFailed(context: SessionMachineContext, error: SerializedError): WriteQueue {
  const head = context.queue.first;
  const write = context.inFlight?.writes[0];
  if (!head || !write || !isNameByName(head.request)) return context.queue;
  const name = write.key.slice(context.sessionId.length + 1);
  return context.queue.withFirst(Object.freeze({ ...head, request: decide(head.request, name, failedOutcome(error)) }));
}

/**
 * Whether `queued` has started: it is the head of the queue and its commit (or its check) is under way, or a name of
 * it was written already. What started may be in the store, and is carried through whoever still waits for it.
 */
export function hasStarted(context: SessionMachineContext, queued: QueuedWrite): boolean {
  return context.queue.first === queued && (context.inFlight !== null || queued.revision !== undefined);
}

const sentOf = (queued: QueuedWrite): WriteRequest => queued.sent;

/** An empty write queue. */
export function emptyWriteQueue(): WriteQueue {
  return PersistentQueue.empty(sentOf);
}

/** The queue without the write its caller sent as `request`, unless that one has started (see {@link hasStarted}). */
export function withoutUnstarted(context: SessionMachineContext, request: WriteRequest): WriteQueue {
  const queued = context.queue.find(request);
  return queued === undefined || hasStarted(context, queued) ? context.queue : context.queue.without(request);
}

/** `current`, or the highest revision among `changes` when that is higher. */
export function highestRevision(current: number, changes: readonly { readonly revision: number }[]): number {
  let highest = current;
  for (const change of changes) if (change.revision > highest) highest = change.revision;
  return highest;
}
