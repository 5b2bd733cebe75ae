/**
 * `commit(writes)` on a JetStream KV bucket, honestly.
 *
 * Server 2.9.10 cannot append several messages atomically (atomic batch publish arrived in 2.12), and its
 * compare-and-set looks only at the subject being written, so no single message can be conditioned on
 * several keys. A "batch record" under one key would be atomic but invisible to the per-key compare-and-set of
 * every later `update` (which would then overwrite batched values unchecked), so it is not used. Instead:
 *
 * (A single write to an existing key skips step 1: the server's compare-and-set on its publish is enough.)
 *
 * 1. Check: read every key's last message and check each expected revision. A mismatch rejects with
 *    `StoreConflictError` and nothing is written — this is the common conflict, and it is fully atomic.
 * 2. Write: publish all writes back to back on one connection, each with its own server-side compare-and-set
 *    on the revision seen in step 1 and a `Tether-Commit` header (a delete also names who deletes, as `delete`
 *    does). A commit of several writes also marks each with its id and size (commit-mark.ts). The server applies
 *    them in order, so they get increasing revisions (consecutive unless another client's write lands in between).
 * 3. Undo: if a write lost a race that began after step 1, every write of this commit that did land is reverted
 *    with compare-and-set at the revision it got (the previous value re-put, or a delete marker where the key
 *    was absent), marked as this commit's undo, then the commit rejects with `StoreConflictError`.
 *
 * Through an election of the stream's leader every read and write of a commit is retried (kv-bucket.ts), within
 * one deadline for the whole commit; past it the commit rejects with `StoreUnavailableError`. One that gives up
 * in step 1 wrote nothing; in step 2 the writes go out back to back, so an election stops them alike, and any
 * that landed are undone as after a lost race (each undo with a deadline of its own).
 *
 * Guarantees: a commit that resolves applied every write; a commit that rejects with `StoreConflictError` left
 * every key's value as it was (its revision may have moved on through the undo). A node's router hands a commit's
 * writes to its sessions together, and never those undone (commit-holdback.ts), unless a writer stopped midway.
 * Not guaranteed: reading the bucket itself (a `get`, a key's history) during a raced commit can show some of its
 * writes and then their undo. If an undo itself fails (a third writer already replaced the partial value, or a full
 * account's storage refuses it as it refused the write), the commit rejects with `InternalError` whose details list
 * the keys left written and the code of what refused the write — the one case where a commit is visibly partial.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { BridgeError, InternalError, StoreConflictError } from '../errors.js';
import { messageOf } from '../printable.js';
import type { StoreWrite } from '../store/store.js';
import { COMMIT_HEADER, COMMIT_SIZE_HEADER, COMMIT_UNDO_HEADER, canMark, markUndo, markWrite } from './commit-mark.js';
import type { KvBucket, LastWrite } from './kv-bucket.js';
import { updatedByHeaders } from './kv-updated-by.js';
import { deadlineOf } from './retry-unavailable.js';

const EMPTY = new Uint8Array(0);

/** How a commit's writes become messages: a put's value, a delete marker's own headers (who deletes). */
export interface CommitEncoding<V> {
  /** Throws to refuse a value that cannot be stored under `key`. */
  value(value: V, key: string): Uint8Array;
  /** Throws to refuse the delete (see `markerHeaders` in kv-updated-by.ts). */
  markerHeaders(key: string, updatedBy: string | undefined): Readonly<Record<string, string>>;
}

/** A hook between the check and the writes, so tests can race a commit deterministically. */
export type CommitCheckedHook = (keys: readonly string[]) => void | Promise<void>;

/**
 * A hook before each write of a commit of several writes, so tests can stop a commit between its writes; given
 * one, the writes are published one after another, each once its hook resolved.
 */
export type CommitWriteHook = (key: string, index: number) => void | Promise<void>;

/** Runs a commit as described in the module comment; resolves to each write's revision. */
export async function commitToKv<V>(
  bucket: KvBucket,
  writes: readonly StoreWrite<V>[],
  encoding: CommitEncoding<V>,
  onChecked?: CommitCheckedHook,
  onWrite?: CommitWriteHook,
): Promise<number[]> {
  if (writes.length === 0) return [];
  // Every write is encoded before anything is read or written: a value the codec refuses (too large, say), or a
  // delete's updatedBy over the limit, must fail the whole commit while nothing of it has been published, not after
  // the writes ahead of it landed.
  const data = writes.map((write) => (write.operation === 'put' ? encoding.value(write.value, write.key) : EMPTY));
  const own = writes.map((write) =>
    write.operation === 'delete' ? encoding.markerHeaders(write.key, write.updatedBy) : {},
  );
  // One deadline for every part: the commit as a whole waits at most the bucket's bound through an election.
  const until = deadlineOf(bucket.retry);
  const only = writes[0];
  // One write to a key that exists: the server's own compare-and-set on the publish is already atomic, so the
  // check round trip is not needed (the hot path of setVariable). Expecting absence (0) still reads first: a
  // deleted key's last message is its delete marker, whose revision the publish has to name.
  if (writes.length === 1 && only !== undefined && only.expectedRevision > 0 && onChecked === undefined) {
    return [
      await bucket.publish(
        {
          key: only.key,
          operation: only.operation,
          data: data[0]!,
          expectLast: only.expectedRevision,
          headers: own[0]!,
        },
        until,
      ),
    ];
  }
  const before = await Promise.all(writes.map((write) => bucket.readLast(write.key, until)));
  writes.forEach((write, i) => {
    const last = before[i];
    // Absent: no message, a marker, or a put that holds no value (kv-values.ts), at whose revision it is written.
    const ok =
      write.expectedRevision === 0 ? !bucket.holdsValue(write.key, last) : last?.revision === write.expectedRevision;
    if (!ok) throw new StoreConflictError(write.key, write.expectedRevision, last?.revision ?? 0);
  });
  await onChecked?.(writes.map((write) => write.key));

  const id = randomUUID();
  // Several writes are marked with the commit and its size, so routers hand them over together (commit-mark.ts).
  // Only writes that can carry a mark count: a router waits for as many as the size says.
  const markable = writes.map((write, i) => write.operation === 'delete' || canMark(data[i]!));
  const size = markable.filter(Boolean).length;
  const marked = (i: number): boolean => size > 1 && markable[i]!;
  const publish = (write: StoreWrite<V>, i: number): Promise<number> =>
    bucket.publish(
      {
        key: write.key,
        operation: write.operation,
        data: marked(i) && write.operation === 'put' ? markWrite(data[i]!, id, size) : data[i]!,
        expectLast: before[i]?.revision ?? 0,
        headers: marked(i)
          ? { [COMMIT_HEADER]: id, [COMMIT_SIZE_HEADER]: String(size), ...own[i] }
          : { [COMMIT_HEADER]: id, ...own[i] },
      },
      until,
    );
  // Issued without awaiting in between, so this commit's messages reach the server back to back.
  const outcomes = onWrite
    ? await publishInTurn(writes, publish, onWrite)
    : await Promise.allSettled(writes.map(publish));
  const failedAt = outcomes.findIndex((outcome) => outcome.status === 'rejected');
  if (failedAt === -1) return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<number>).value);

  const failure = (outcomes[failedAt] as PromiseRejectedResult).reason as unknown;
  const unrestored = await undo(bucket, id, writes, before, outcomes);
  const write = writes[failedAt]!;
  if (unrestored.length > 0) {
    // Said from the failure itself: a full account's storage refuses the write and then the undo too, with no other
    // writer about, and a remote caller hears only this message and these details, never the cause.
    const lostRace = failure instanceof StoreConflictError;
    const what = lostRace ? `lost a race on '${write.key}'` : `was refused on '${write.key}' (${messageOf(failure)})`;
    throw new InternalError(`commit ${id} ${what} and could not undo ${unrestored.join(', ')}`, {
      cause: failure,
      details: { commit: id, conflictKey: write.key, unrestored, reason: reasonOf(failure) },
    });
  }
  if (failure instanceof StoreConflictError) {
    throw new StoreConflictError(write.key, write.expectedRevision, failure.actualRevision, {
      cause: failure,
      details: { commit: id },
    });
  }
  throw failure;
}

/** The code of what refused a commit's write: `store_conflict` for a lost race, `store_limit_reached`, .... */
function reasonOf(failure: unknown): string {
  return failure instanceof BridgeError ? failure.code : 'internal_error';
}

/** Reverts the writes that landed; resolves to the keys that could not be reverted. */
async function undo<V>(
  bucket: KvBucket,
  id: string,
  writes: readonly StoreWrite<V>[],
  before: readonly (LastWrite | undefined)[],
  outcomes: readonly PromiseSettledResult<number>[],
): Promise<string[]> {
  const results = await Promise.allSettled(
    outcomes.map(async (outcome, i) => {
      if (outcome.status !== 'fulfilled') return;
      const previous = before[i];
      await bucket.publish({
        key: writes[i]!.key,
        operation: previous?.live ? 'put' : 'delete',
        // Marked as this commit's undo: a router holding the commit's writes drops them (commit-holdback.ts).
        data: previous?.live ? markUndo(previous.data, id) : new Uint8Array(0),
        expectLast: outcome.value,
        // A marker put back names who deleted, as the one it stands for did.
        headers: { [COMMIT_UNDO_HEADER]: id, ...updatedByHeaders(previous?.live ? undefined : previous?.updatedBy) },
      });
    }),
  );
  return results.flatMap((result, i) => (result.status === 'rejected' ? [writes[i]!.key] : []));
}

/** The writes published one after another, each after `onWrite` (a test hook); settled as `allSettled` would. */
async function publishInTurn<V>(
  writes: readonly StoreWrite<V>[],
  publish: (write: StoreWrite<V>, i: number) => Promise<number>,
  onWrite: CommitWriteHook,
): Promise<PromiseSettledResult<number>[]> {
  const outcomes: PromiseSettledResult<number>[] = [];
  for (const [i, write] of writes.entries()) {
    await onWrite(write.key, i);
    try {
      outcomes.push({ status: 'fulfilled', value: await publish(write, i) });
    } catch (reason) {
      outcomes.push({ status: 'rejected', reason });
    }
  }
  return outcomes;
}
