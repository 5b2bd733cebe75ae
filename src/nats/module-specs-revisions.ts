/**
 * How far a node has got through the modules bucket (module-specs.ts): the node's watch of the bucket, which hands each
 * write over and only then counts it applied; the highest revision the node knows of, its own writes included; and
 * the waits for the revision a module request carries (read-your-writes for module specs, as for variables).
 * @module
 */
import type { KV, NatsConnection } from 'nats';
import { bucketLastRevision, bucketNextKept } from './bucket-stream.js';
import { watchKv, type KvWatchHandle } from './kv-watch.js';
import { watchOptionsFor } from './kv-watch-options.js';
import { RevisionWaiters, waitUnlessUnknown, type AppliedRevisions } from './revision-waiters.js';
import { WatchOutage } from './watch-outage.js';
import { MIN_MODULES_REVISION_HEADER } from './wire.js';

/** The watch of the modules bucket: a bucket watch that its connection's drops suspend. */
export interface SpecsWatch extends KvWatchHandle {
  /** The connection dropped: the watch is down until the next `resume` has its consumer open. */
  suspend(): void;
}

/** What {@link createSpecsRevisions} follows. */
export interface SpecsRevisionsOptions {
  readonly connection: NatsConnection;
  readonly kv: KV;
  /** The bucket's name. */
  readonly bucket: string;
  /** How long the watch rides through an election of the stream's leader (see `unavailableRetryMs`). */
  readonly retryMs: number;
  /** See `ModuleSpecsOptions.unknownRevisionGraceMs`. @default 50 */
  readonly unknownRevisionGraceMs?: number | undefined;
  /** See `ModuleSpecsOptions.onWatchSlow`. */
  readonly onWatchSlow?: ((error: unknown) => void) | undefined;
}

/**
 * The modules bucket's revisions on this node. As {@link AppliedRevisions}: applied is how far {@link SpecsRevisions.watch} has got
 * (each write counts once its `onWrite` returned; 0 until a watch is live), highest also counts this node's own writes.
 */
export interface SpecsRevisions extends AppliedRevisions {
  /** Counts a write of this node's own, or one it read (spec, claim, removal marker), in the highest; returns it. */
  wrote(revision: number): number;
  /** The node's watch of the bucket: see `ModuleSpecs.watch`. */
  watch(
    onWrite: (sessionId: string, moduleId: string, revision: number) => void,
    onEnd: (error: unknown) => void,
    onSkipped?: () => void,
  ): SpecsWatch;
}

/** Follows the revisions of the modules bucket `bucket`; nothing is watched until {@link SpecsRevisions.watch}. */
export function createSpecsRevisions(options: SpecsRevisionsOptions): SpecsRevisions {
  const { connection, kv, bucket, retryMs } = options;
  const outage = new WatchOutage();
  const waiters = new RevisionWaiters(outage);
  let applied = 0;
  let written = 0;
  const wrote = (revision: number): number => {
    written = Math.max(written, revision);
    return revision;
  };
  /** What the node's watch hears when it passed by messages removed before it read them (see `watch`). */
  let skipped: (() => void) | undefined;
  /** The running watches of the bucket: told to check when a wait finds the bucket ahead of them. */
  const watching = new Set<KvWatchHandle>();
  const unknownCheck = {
    bucket,
    header: MIN_MODULES_REVISION_HEADER,
    lastRevision: () => bucketLastRevision(connection, bucket),
    applied: () => applied,
    graceMs: options.unknownRevisionGraceMs ?? 50,
    nextKept: (after: number) => bucketNextKept(connection, bucket, after),
    skipRemoved: (upTo: number) => {
      // The revisions passed by may hold a stop's marker, removed before the watch read it: what runs here is
      // checked again before a request that waited for them is served.
      if (upTo > applied) skipped?.();
      reached(upTo);
    },
    behind: () => watching.forEach((handle) => handle.checkNow()),
  };
  const reached = (revision: number): void => {
    if (revision <= applied) return;
    applied = revision;
    waiters.advance(applied);
  };

  return {
    wrote,

    watch(onWrite, onEnd, onSkipped) {
      skipped = onSkipped;
      /** The revision of the last write this watch handed over: the watch covers the whole stream, one by one. */
      let handed: number | undefined;
      const handle = watchKv(
        kv,
        '',
        { kind: 'live' },
        (entries) => {
          for (const entry of entries) {
            if (handed !== undefined && entry.revision > handed + 1) onSkipped?.();
            handed = entry.revision;
            try {
              // Ids have no dots (both follow the id rule): the first dot splits every key this bucket holds.
              const dot = entry.key.indexOf('.');
              if (dot > 0) onWrite(entry.key.slice(0, dot), entry.key.slice(dot + 1), entry.revision);
            } finally {
              // Only once `onWrite` has seen it (a replaced spec's process is out of service) does it count as applied.
              reached(entry.revision);
            }
          }
        },
        onEnd,
        {
          ...watchOptionsFor(connection, bucket, retryMs),
          ...(options.onWatchSlow ? { reopenSlow: options.onWatchSlow } : {}),
        },
      );
      const initialized = (async () => {
        await handle.initialized;
        // Read once the watch is live, as the variables router does: a write before it is counted here, a later
        // one is delivered. Nothing on the node runs a spec yet that such a write could have replaced.
        reached(await bucketLastRevision(connection, bucket));
      })();
      initialized.catch(() => {});
      watching.add(handle);
      return {
        ...handle,
        stop() {
          watching.delete(handle);
          handle.stop();
        },
        initialized,
        suspend: () => outage.began(),
        resume() {
          const resumed = handle.resume();
          outage.endsWith(resumed);
          return resumed;
        },
      };
    },

    get appliedRevision() {
      return applied;
    },
    get highestRevision() {
      return Math.max(applied, written);
    },
    waitForRevision(revision, timeoutMs) {
      if (applied >= revision) return Promise.resolve(true);
      // A revision of a modules bucket since re-created or reset is refused, as the variables bucket's is.
      return waitUnlessUnknown(revision, waiters.wait(revision, timeoutMs), timeoutMs, unknownCheck);
    },
  };
}
