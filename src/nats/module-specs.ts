/**
 * Module specs in a JetStream KV bucket (`tether_modules`, key `<session>.<module>`), so that any node can wake
 * any module: a node that gets a request for a module it has no process for reads the spec here and starts one.
 *
 * Creation is create-if-absent: the first creator of an id wins on every node, and a later one gets
 * `AlreadyExistsError`. A node builds the module (every check against its session) before it claims the key, so
 * a refused creation writes nothing, not even a delete marker; a claim whose process then cannot start is given
 * back (only while it is still its own revision). A module whose spec holds functions cannot be kept here; its
 * key holds a `LocalClaim` instead (which node has it), so that the two kinds share one namespace of ids (see
 * module-claims.ts for how such a claim is written and taken over).
 *
 * Every node watches the bucket ({@link ModuleSpecs.watch}): a delete marker or a new revision of a key it runs a
 * process for means that process runs a removed spec, and it stops. The watch resumes after an outage where it
 * left off, so a node offline during a stop still learns of it; a stop's marker leaves the bucket some seconds later
 * (late-removals.ts), and a node back after that, or whose watch passed by messages removed before it read them,
 * checks each of its processes against the bucket instead. How far the watch has got is the bucket's applied
 * revision, which a module request waits for (read-your-writes for module specs, as for variables): the watch and that
 * revision live in module-specs-revisions.ts. How large a spec may be is spec-room.ts's to say.
 *
 * A value in the bucket that is neither spec nor claim (put there by something other than a node: module-records.ts)
 * is told to `onUnreadable` once per key and revision, naming the bucket, the key and the module. A session's listing
 * leaves it out; a request for that module fails with an `InternalError` that names them too; a creation of its id
 * writes over it (compare-and-set on its revision), as over a removed module.
 * @module
 */
import type { NatsConnection } from 'nats';
import { AlreadyExistsError, InternalError, StoreConflictError } from '../errors.js';
import { toldOnce } from './told-once.js';
import { compareModuleIds, type ModuleSpec } from '../modules/module-spec.js';
import { kvBucket } from './kv-bucket.js';
import { subjectKeys } from './kv-last-writes.js';
import type { SharedSpec } from './module-host.js';
import { openSingleWriteBucket } from './kv-bucket-settings.js';
import { specRoom } from './spec-room.js';
import { specsFailure, unreadableValue } from './module-specs-failure.js';
import { decodeModuleValue, type ListedModule, type LocalClaim, type ModuleEntryRecord } from './module-records.js';
import { parseWireSpec, type WireModuleSpec } from './module-wire-spec.js';
import type { AppliedRevisions } from './revision-waiters.js';
import { createSpecsRevisions, type SpecsWatch } from './module-specs-revisions.js';
import { assertUnavailableRetryMs, DEFAULT_UNAVAILABLE_RETRY_MS } from './retry-unavailable.js';
import { messageOf } from '../printable.js';
import { LateRemovals } from './late-removals.js';

/** Options of {@link openModuleSpecs}. */
export interface ModuleSpecsOptions {
  /** @default 'tether_modules' */
  readonly bucket?: string;
  /**
   * Copies of the bucket on a clustered JetStream (1 to 5); when given, an existing bucket with other replicas is
   * refused with `BucketConfigMismatchError`.
   * @default 1 for a new bucket
   */
  readonly replicas?: number;
  /**
   * How long a wait for a modules revision goes on before the bucket's last revision is read to tell whether the
   * revision exists at all (see `waitUnlessUnknown` in revision-waiters.ts). @default 50
   */
  readonly unknownRevisionGraceMs?: number;
  /**
   * How long an operation waits for the bucket while no leader of its stream answers, retrying, before it fails
   * with `StoreUnavailableError` (see `unavailableRetryMs` of the KV store). @default 15000
   */
  readonly unavailableRetryMs?: number;
  /**
   * How long a stop's delete marker stays in the bucket at least (see late-removals.ts); on a replicated bucket at
   * least its duplicate window and a minute more. @default 10000
   */
  readonly removalDelayMs?: number;
  /** Told when a marker could not be removed (see late-removals.ts). */
  readonly onRemovalError?: (error: unknown) => void;
  /**
   * Told of a value in the bucket that is neither spec nor claim (an `InternalError` naming the bucket, the key and
   * the module), once per key and revision.
   */
  readonly onUnreadable?: (error: InternalError) => void;
  /**
   * Told, once per outage, when reopening the bucket's watch ({@link ModuleSpecs.watch}) has failed for about a
   * minute, with the last failure as JetStream answered it (see `reopenSlow` in kv-watch-options.ts); the watch goes on
   * trying.
   */
  readonly onWatchSlow?: (error: unknown) => void;
}

/** A spec as the bucket holds it, with the revision it was written at (and the check that it still holds it). */
export interface StoredModuleSpec extends SharedSpec {
  readonly spec: ModuleSpec;
}

/**
 * The shared module specs. As {@link AppliedRevisions}: applied is how far {@link ModuleSpecs.watch} has got (each
 * write counts once its `onWrite` returned; 0 until a watch is live), highest also counts this node's own writes.
 */
export interface ModuleSpecs extends AppliedRevisions {
  /** The bucket's name. */
  readonly bucket: string;
  /** The copies its bucket's stream keeps, as found when it was opened. */
  readonly replicas: number;
  /**
   * Writes the spec of a new module, or the claim of a module that stays on its node; resolves to its revision.
   * Without `replacing` the key must be free (never written, or removed, or holding a value that is neither spec nor
   * claim); with it, the key's last write must be that revision (taking over a claim whose node is gone, or a claim's
   * second write).
   * @throws {AlreadyExistsError} when the key holds something else: the id is taken in the session
   * @throws {ValidationError} when the spec is too large for one message of the bucket (see spec-room.ts)
   */
  claim(sessionId: string, moduleId: string, value: WireModuleSpec | LocalClaim, replacing?: number): Promise<number>;
  /**
   * Removes a claim made at `revision`, unless the key has changed since (then it is someone else's); resolves
   * `true` when this call removed it.
   */
  release(sessionId: string, moduleId: string, revision: number): Promise<boolean>;
  /**
   * The spec of a module and its revision, or `undefined` when there is none (never created, removed, or the key
   * holds the claim of a module that stays on its node: that one is never woken elsewhere).
   */
  load(sessionId: string, moduleId: string): Promise<StoredModuleSpec | undefined>;
  /**
   * What the module's key holds now (spec or claim), or `undefined` when it is free.
   * @throws {InternalError} naming the module and the key when the key holds a value that is neither
   */
  current(sessionId: string, moduleId: string): Promise<ModuleEntryRecord | undefined>;
  /**
   * Whether the module's key still holds what was written at `revision`, spec or claim (not removed, not removed and
   * written again, not taken over).
   */
  holds(sessionId: string, moduleId: string, revision: number): Promise<boolean>;
  /** The modules of a session, sorted by id: specs and claims (a value that is neither left out, and told). */
  list(sessionId: string): Promise<ListedModule[]>;
  /**
   * Calls `onWrite` for every write to the bucket from now on (a new spec, or a removal's delete marker) with the
   * revision it was written at; see `watchKv` (kv-watch.ts) for resuming after an outage and for `onEnd`. Its
   * `initialized` also covers reading the bucket's last revision, the applied revision it starts from. One watch
   * per node: it is what the applied revision measures. Its `suspend`, for when the connection drops, has the
   * waits for a modules revision that time out before the next `resume` is done go on (see watch-outage.ts).
   * `onSkipped` hears that the watch was handed a write past messages it never got (removed from the stream before
   * it read them: a removal's delete marker among them, maybe), so that what the node runs is checked again; so
   * does a wait for a revision that passes by such messages (the latest watch's hook, as there is one per node).
   */
  watch(
    onWrite: (sessionId: string, moduleId: string, revision: number) => void,
    onEnd: (error: unknown) => void,
    onSkipped?: () => void,
  ): SpecsWatch;
  /** Stops removing old delete markers (see late-removals.ts); the watches are stopped by their handles. */
  close(): void;
}

const encoder = new TextEncoder();

/**
 * Opens (creating if needed) the modules bucket on `connection`.
 * @example
 * const specs = await openModuleSpecs(nc, { bucket: 'tether_modules' });
 * await specs.claim('chat-1', 'qa', { type: 'Predict', signature: 'question -> answer' });
 */
export async function openModuleSpecs(
  connection: NatsConnection,
  options: ModuleSpecsOptions = {},
): Promise<ModuleSpecs> {
  const bucket = options.bucket ?? 'tether_modules';
  assertUnavailableRetryMs(options.unavailableRetryMs);
  const js = connection.jetstream();
  const retryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS;
  const failed = (error: unknown): InternalError => {
    const message = messageOf(error);
    return new InternalError(`module specs open of '${bucket}' failed: ${message}`, {
      cause: error,
      details: { operation: 'open', key: bucket },
    });
  };
  const { kv, replicas, duplicateWindowMs, maxValueSize } = await openSingleWriteBucket(
    { connection, bucket, retryMs, failed },
    options.replicas,
  );
  const assertSpecFits = specRoom(connection, bucket, maxValueSize);
  const raw = await kvBucket(connection, { js, kv, name: bucket, replicas, retryMs });
  const keyOf = (sessionId: string, moduleId: string): string => `${sessionId}.${moduleId}`;
  const removals = new LateRemovals({
    manager: () => connection.jetstreamManager({ checkAPI: false }),
    bucket,
    replicatedWindowMs: replicas > 1 ? duplicateWindowMs : undefined,
    ...(options.removalDelayMs !== undefined ? { delayMs: options.removalDelayMs } : {}),
    report: options.onRemovalError ?? (() => {}),
  });
  const revisions = createSpecsRevisions({
    connection,
    kv,
    bucket,
    retryMs,
    unknownRevisionGraceMs: options.unknownRevisionGraceMs,
    onWatchSlow: options.onWatchSlow,
  });
  const { wrote } = revisions;

  /** Deletes the key if its last write is still `revision`; resolves `false` when it is not (someone else's now). */
  const deleteIfLast = async (key: string, revision: number): Promise<boolean> => {
    try {
      // Published directly: `kv.delete` discards the ack, and the delete marker's revision goes in the reply.
      const marker = wrote(
        await raw.publish({ key, operation: 'delete', data: new Uint8Array(0), expectLast: revision }),
      );
      removals.removeLater(key, marker);
      return true;
    } catch (error) {
      if (error instanceof StoreConflictError) return false;
      throw specsFailure(error, bucket, 'release', key);
    }
  };

  const firstTold = toldOnce();
  /** A value that is neither spec nor claim, named; told to `onUnreadable` the first time it is met. */
  const unreadable = (key: string, revision: number, problem: string, data: Uint8Array): InternalError => {
    const error = unreadableValue(bucket, key, revision, problem, data);
    if (options.onUnreadable && firstTold(`${key}@${revision}`)) options.onUnreadable(error);
    return error;
  };

  /**
   * The key's last write: a spec or a claim, a value that is neither (`unreadable`, the error it is), or a removal
   * (`removed`) with its delete marker's revision; `undefined` when the key was never written. Whatever it found counts
   * as known to this node, as its own writes do: a reply that says the module exists (`already_exists` included) or is
   * gone then carries a modules revision at least that write's, so the client's next request is not served by a node
   * whose watch has not seen it yet (one that would not run the module, or would still run a removed one).
   */
  const read = async (
    key: string,
  ): Promise<
    | ModuleEntryRecord
    | { revision: number; removed: true }
    | { revision: number; unreadable: InternalError }
    | undefined
  > => {
    let last;
    try {
      last = await raw.readLast(key);
    } catch (error) {
      throw specsFailure(error, bucket, 'read', key);
    }
    if (last === undefined) return undefined;
    wrote(last.revision);
    if (!last.live) {
      // One left by a node that stopped before it removed it, or one whose removal waits here already (asked for
      // again, it keeps its turn): either way it has done its work.
      removals.removeLater(key, last.revision);
      return { revision: last.revision, removed: true };
    }
    const decoded = decodeModuleValue(last.data);
    if ('problem' in decoded)
      return { revision: last.revision, unreadable: unreadable(key, last.revision, decoded.problem, last.data) };
    return { revision: last.revision, ...decoded };
  };

  /** What `read` found, or `undefined` for a removal. */
  const current = async (sessionId: string, moduleId: string): Promise<ModuleEntryRecord | undefined> => {
    const found = await read(keyOf(sessionId, moduleId));
    if (found === undefined || 'removed' in found) return undefined;
    if ('unreadable' in found) throw found.unreadable;
    return found;
  };

  const holds = async (sessionId: string, moduleId: string, revision: number): Promise<boolean> => {
    const found = await read(keyOf(sessionId, moduleId));
    return found !== undefined && !('removed' in found) && found.revision === revision;
  };

  return {
    bucket,
    replicas,

    async claim(sessionId, moduleId, value, replacing) {
      const key = keyOf(sessionId, moduleId);
      const data = encoder.encode(JSON.stringify(value));
      assertSpecFits(data, sessionId, moduleId);
      const put = async (expectLast: number | undefined): Promise<number> => {
        try {
          // Also takes over a key whose last write is a delete marker: a removed id is free again. Not nats.js
          // `create`: on a replicated bucket, two claims of one id racing from two nodes would both win there.
          const revision =
            expectLast === undefined
              ? await raw.writeIfAbsent(key, 'put', data)
              : await raw.publish({ key, operation: 'put', data, expectLast });
          return wrote(revision);
        } catch (error) {
          // Without the conflict as its cause: the store's key and revisions are the bucket's business, and the same
          // refusal embedded or through a client has none.
          if (error instanceof StoreConflictError)
            throw new AlreadyExistsError('module', moduleId, { details: { sessionId } });
          throw specsFailure(error, bucket, 'create', key);
        }
      };
      try {
        return await put(replacing);
      } catch (error) {
        if (replacing !== undefined || !(error instanceof AlreadyExistsError)) throw error;
        // Taken by a value that is neither spec nor claim (no module): the id is free, and this creation writes over
        // it at the revision read. Written again since, by a node, it is taken.
        const found = await read(key);
        if (found === undefined || !('unreadable' in found)) throw error;
        return put(found.revision);
      }
    },

    // Changed since the claim: another creation owns the key now, and it is not ours to remove.
    release: (sessionId, moduleId, revision) => deleteIfLast(keyOf(sessionId, moduleId), revision),

    async load(sessionId, moduleId) {
      const found = await current(sessionId, moduleId);
      if (found?.spec === undefined) return undefined;
      const { revision } = found;
      // Checked again on the way out: the bucket is shared, and anything with access to it can write there.
      return { spec: parseWireSpec(found.spec), revision, stillShared: () => holds(sessionId, moduleId, revision) };
    },

    current,
    holds,

    async list(sessionId) {
      const prefix = `${sessionId}.`;
      // The subjects of the bucket's stream, from stream info: no consumer. `kv.keys()` runs one, and on server
      // 2.9 that listing can block after deletes (nats-server#3481) — it did under load when a stop raced a list.
      let keys: string[];
      try {
        keys = await subjectKeys(raw, prefix, 'list');
      } catch (error) {
        throw specsFailure(error, bucket, 'list', prefix);
      }
      const listed: ListedModule[] = [];
      for (const [key, found] of await Promise.all(keys.map(async (key) => [key, await read(key)] as const))) {
        // One unreadable value (told) must not keep the session's other modules from being listed.
        if (found === undefined || 'removed' in found || 'unreadable' in found) continue;
        const moduleId = key.slice(prefix.length);
        listed.push(found.local ? { moduleId, local: found.local } : { moduleId, spec: found.spec });
      }
      return listed.sort((a, b) => compareModuleIds(a.moduleId, b.moduleId));
    },

    watch: (onWrite, onEnd, onSkipped) => revisions.watch(onWrite, onEnd, onSkipped),

    close: () => removals.close(),

    get appliedRevision() {
      return revisions.appliedRevision;
    },
    get highestRevision() {
      return revisions.highestRevision;
    },
    waitForRevision: (revision, timeoutMs) => revisions.waitForRevision(revision, timeoutMs),
  };
}
