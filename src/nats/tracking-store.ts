/**
 * A {@link Store} wrapper that gives a NATS node two things the runtime does not expose:
 *
 * 1. **How far its router has got.** The runtime routes every store change through one watch over all keys
 *    (prefix `''`); this wrapper records the highest revision that watch has handed to the runtime, so the
 *    service can hold a request until the changes a client has already seen are in the session processes
 *    (read-your-writes across nodes), and the highest revision this node knows to exist, for replies.
 * 2. **The writes this node committed, with the value they replaced.** Only the node that commits a write
 *    knows it was its own, so that node, and no other, announces it: each event is published exactly once, in
 *    commit order (see commit-announcer.ts).
 *    The replaced value is the one at the write's `expectedRevision` (compare-and-set proves the key was there),
 *    looked up in a cache of the records of the sessions this node has loaded — the same frozen objects the
 *    session processes hold — or, when the cache does not have that exact revision, in the key's history.
 * @module
 */
import type { Store, StoreChange, StoreWatch, StoreWrite } from '../store/store.js';
import type { VariableRecord } from '../variables/types.js';
import { CommitAnnouncer, UNKNOWN_BEFORE, type CommittedBefore, type CommittedListener } from './commit-announcer.js';
import { COMMIT_HOLD_MS } from './commit-holdback.js';
import { openRouterWatch, type RouterPosition, type RouterWatchDeps } from './router-watch.js';
import { RevisionWaiters, waitUnlessUnknown } from './revision-waiters.js';
import { MIN_REVISION_HEADER } from './wire.js';
import type { WatchOutage } from './watch-outage.js';
import { sessionOfKey } from '../store/changes-by-session.js';
import { watchInBatches } from '../store/watch-in-batches.js';

/** The wrapped store and what it tracks. */
export interface TrackingStore extends Store<VariableRecord> {
  /** Every change up to this revision has been handed to the router (0 before the first). */
  readonly appliedRevision: number;
  /** The highest revision this node knows exists: applied by its router or written by itself. */
  readonly highestRevision: number;
  /**
   * Resolves `true` once `appliedRevision >= revision`, `false` when `timeoutMs` passes first. Rejects with
   * `RevisionUnknownError` when, still waiting after a short grace, the store's last revision (the `lastRevision`
   * option; never checked without it) is below `revision`: the bucket was re-created or reset, no wait can help.
   */
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean>;
  /**
   * Resolves `true` once the router has handed on every change up to `revision`, `false` when it has not within
   * {@link ROUTED_WAIT_MARGIN_MS} past its commit hold (or the bucket does not hold `revision`). Never rejects. For
   * a session whose write lost a compare-and-set race: what it re-read from the bucket may be part of a batch the
   * router still holds, and reaches the session whole (or not at all) through the router instead.
   */
  waitUntilRouted(revision: number): Promise<boolean>;
  /**
   * Registers a listener for this node's committed writes, called as each commit is acknowledged (before the
   * writer hears back) or, when the old value needs a history lookup, once it has it; in commit order either way.
   * Returns the function that removes it. A listener must be quick: it runs on the write's path.
   */
  onCommitted(listener: CommittedListener): () => void;
  /**
   * Resolves once every committed write so far has been handed to the listeners; `undefined` when every one has
   * been already (no history lookup is pending), so a caller need not wait a tick for nothing.
   */
  settled(): Promise<void> | undefined;
  /**
   * Drops what this node keeps of a session whose process ended here, so the cache holds only live sessions;
   * the session's next load fills it again.
   */
  forgetSession(sessionId: string): void;
  /**
   * The session's process here serves its life `incarnation` (until {@link TrackingStore.forgetSession}): the
   * changes it commits name that life, so their events tell an old life's writes from a new one's.
   */
  noteLife(sessionId: string, incarnation: string): void;
}

/** Options of {@link createTrackingStore}. */
export interface TrackingStoreOptions {
  /**
   * The store's last revision right now (for KV: the bucket stream's last sequence). Read once the router's watch
   * is live, because a router that only sees new changes would otherwise never reach a revision written before.
   */
  readonly lastRevision?: () => Promise<number>;
  /**
   * The revision of the first change after `after` the store still holds (`undefined`: none). With it, a wait for a
   * revision whose changes were all removed since (a session deletion removes its purge markers from the stream)
   * ends instead of waiting for a change no router will ever see; see `UnknownRevisionCheck.nextKept`.
   */
  readonly nextKept?: (after: number) => Promise<number | undefined>;
  /**
   * How long a router holds the writes of a commit of several writes for the rest of them (commit-holdback.ts):
   * only a writer stopped between its writes, or an election among them, reaches it. @default 1000
   */
  readonly commitHoldMs?: number;
  /** The store's KV bucket, named by `RevisionUnknownError`. @default 'tether_vars' */
  readonly bucket?: string;
  /**
   * How long a wait for a revision goes on before the store's last revision is read to tell whether the revision
   * exists at all: a router normally applies a change within a millisecond, and a read for every request that
   * catches it a little behind would load the JetStream API for nothing. @default 50
   */
  readonly unknownRevisionGraceMs?: number;
  /**
   * Told when a wait for a revision finds, its grace passed, that the store holds it and the router has not applied
   * it: the router's watch may have been moved past it (for KV: `KvStore.checkWatches`).
   */
  readonly onBehind?: () => void;
  /** Told when a listener or a history lookup fails; tracking carries on. */
  readonly onError?: (error: unknown) => void;
  /**
   * The outages of the router's watch (for KV: its connection dropped, its consumer not reopened yet): a wait for a
   * revision whose timeout comes during one goes on until it is over (see revision-waiters.ts). Left out, none.
   */
  readonly outage?: WatchOutage;
}

/**
 * How much longer than its commit hold a wait for the router ({@link TrackingStore.waitUntilRouted}) goes on: the
 * hold's bound runs from when the router got a commit's first write, which may come a little after the bucket
 * holds it. Past that the router lags for another reason (an outage), and the wait gives up.
 */
export const ROUTED_WAIT_MARGIN_MS = 500;

interface Known {
  readonly revision: number;
  readonly record: VariableRecord;
}

/**
 * Wraps `inner`. Give the wrapper, not `inner`, to the runtime, so its router watch and its commits pass here.
 * @example
 * const store = createTrackingStore(await createKvStore(nc), { lastRevision: () => bucketLastRevision(nc) });
 * const runtime = await Runtime.start({ store });
 */
export function createTrackingStore(inner: Store<VariableRecord>, options: TrackingStoreOptions = {}): TrackingStore {
  const report = options.onError ?? ((error: unknown) => console.error('[tether] tracking store:', error));
  const waiters = new RevisionWaiters(options.outage);
  /** Per session loaded on this node (and not forgotten since), its records by key. */
  const known = new Map<string, Map<string, Known>>();
  /** Per session whose process here knows its life, that life (see {@link TrackingStore.noteLife}). */
  const lives = new Map<string, string>();
  /** Per router watch, the last revision it delivered. */
  const routers = new Set<RouterPosition>();
  let written = 0;
  const announcer = new CommitAnnouncer(report);

  const applied = (): number => {
    // Without a router nothing is routed, so only this node's own writes are known to be in its sessions.
    if (routers.size === 0) return written;
    let lowest = Number.POSITIVE_INFINITY;
    for (const router of routers) lowest = Math.min(lowest, router.revision);
    return lowest;
  };

  const remember = (key: string, revision: number, record: VariableRecord | undefined): void => {
    const records = known.get(sessionOfKey(key));
    if (!records) return;
    const current = records.get(key);
    if (current && current.revision >= revision) return;
    if (record === undefined) records.delete(key);
    else records.set(key, { revision, record });
  };

  /** The record at `expectedRevision`, from the cache when it has exactly that revision. */
  const beforeOf = (key: string, expectedRevision: number | undefined): CommittedBefore => {
    if (expectedRevision === 0) return undefined;
    const cached = known.get(sessionOfKey(key))?.get(key);
    if (cached && (expectedRevision === undefined || cached.revision === expectedRevision)) return cached.record;
    if (expectedRevision === undefined) return undefined;
    return inner.history(key).then(
      (changes) => {
        const change = changes.find((c) => c.revision === expectedRevision);
        // Gone from the history (a shallow one, a purge): its event must not pass for a definition.
        if (change === undefined) return UNKNOWN_BEFORE;
        return change.operation === 'put' ? change.value : undefined;
      },
      (error: unknown) => {
        report(error);
        return UNKNOWN_BEFORE;
      },
    );
  };

  /** Records committed writes and queues their announcement; `befores` were read before the commit was sent. */
  const committed = (
    writes: readonly { key: string; value: VariableRecord | undefined; updatedBy?: string | undefined }[],
    befores: readonly ReturnType<typeof beforeOf>[],
    revisions: readonly number[],
  ): void => {
    writes.forEach((write, i) => {
      const revision = revisions[i] ?? 0;
      written = Math.max(written, revision);
      remember(write.key, revision, write.value);
    });
    if (!announcer.listening) return;
    // Read now, at the commit: by the time a history lookup is done the id may serve another life here.
    const incarnations = writes.map((write) => lives.get(sessionOfKey(write.key)));
    announcer.announce(writes, befores, revisions, incarnations);
  };

  const single = async (
    key: string,
    value: VariableRecord | undefined,
    expectedRevision: number | undefined,
    write: () => Promise<number>,
    updatedBy?: string,
  ): Promise<number> => {
    const before = beforeOf(key, expectedRevision);
    const revision = await write();
    committed([{ key, value, updatedBy }], [before], [revision]);
    return revision;
  };

  const routedWaitMs = (options.commitHoldMs ?? COMMIT_HOLD_MS) + ROUTED_WAIT_MARGIN_MS;
  const { lastRevision } = options;
  // Without a way to read the bucket's last revision, a wait cannot tell an unknown revision from a late one.
  const unknownCheck = lastRevision && {
    bucket: options.bucket ?? 'tether_vars',
    header: MIN_REVISION_HEADER,
    lastRevision,
    applied,
    graceMs: options.unknownRevisionGraceMs ?? 50,
    behind: options.onBehind,
    ...(options.nextKept && {
      nextKept: options.nextKept,
      skipRemoved(upTo: number) {
        // Nothing up to `upTo` is left for a router to deliver: each has seen all there is of it.
        for (const router of routers) router.revision = Math.max(router.revision, upTo);
        waiters.advance(applied());
      },
    }),
  };

  const routerDeps: RouterWatchDeps = {
    remember: (change) => remember(change.key, change.revision, change.operation === 'put' ? change.value : undefined),
    routers,
    advanced: () => waiters.advance(applied()),
    lastRevision: options.lastRevision,
    report,
    commitHoldMs: options.commitHoldMs,
  };

  // A request's read-your-writes wait rides out an outage of the router's watch; a write's wait for the router
  // (waitUntilRouted) does not: it holds the session's queue, and its caller's timeout is shorter than an outage.
  const waitForRevision = (revision: number, timeoutMs: number, throughOutage = true): Promise<boolean> => {
    if (applied() >= revision) return Promise.resolve(true);
    const reached = waiters.wait(revision, timeoutMs, throughOutage);
    return unknownCheck ? waitUnlessUnknown(revision, reached, timeoutMs, unknownCheck) : reached;
  };

  return {
    get: (key) => inner.get(key),
    history: (key) => inner.history(key),
    ...(inner.lastChange ? { lastChange: (key: string) => inner.lastChange!(key) } : {}),
    close: () => inner.close(),
    create: (key, value) => single(key, value, 0, () => inner.create(key, value)),
    update: (key, value, expectedRevision) =>
      single(key, value, expectedRevision, () => inner.update(key, value, expectedRevision)),
    delete: (key, expectedRevision, deleteOptions) =>
      single(
        key,
        undefined,
        expectedRevision,
        () => inner.delete(key, expectedRevision, deleteOptions),
        deleteOptions?.updatedBy,
      ),

    async commit(writes: readonly StoreWrite<VariableRecord>[]) {
      const befores = writes.map((write) => beforeOf(write.key, write.expectedRevision));
      const revisions = await inner.commit(writes);
      committed(
        writes.map((write) =>
          write.operation === 'put'
            ? { key: write.key, value: write.value }
            : { key: write.key, value: undefined, updatedBy: write.updatedBy },
        ),
        befores,
        revisions,
      );
      return revisions;
    },

    keys: (prefix) => inner.keys(prefix),

    async purge(key, expectedRevision) {
      // No event: a purge removes what a session's deletion leaves, not a variable its users delete.
      const revision = await inner.purge(key, expectedRevision);
      written = Math.max(written, revision);
      remember(key, revision, undefined);
      return revision;
    },

    async list(prefix) {
      // A session loading its variables: from now on this node keeps its records' revisions.
      const sessionId = prefix.slice(0, -1);
      if (prefix !== '' && !known.has(sessionId)) known.set(sessionId, new Map());
      const entries = await inner.list(prefix);
      for (const entry of entries) remember(entry.key, entry.revision, entry.value);
      return entries;
    },

    watch(prefix, listener, watchOptions): StoreWatch {
      if (prefix !== '') return inner.watch(prefix, listener, watchOptions);
      return openRouterWatch(
        routerDeps,
        (handOver) => inner.watch('', (change) => handOver([change]), watchOptions),
        (changes) => {
          for (const change of changes) listener(change);
        },
      );
    },

    watchBatches(prefix, listener, watchOptions): StoreWatch {
      const open = (handOver: (changes: readonly StoreChange<VariableRecord>[]) => void): StoreWatch =>
        watchInBatches(inner, prefix, handOver, watchOptions);
      return prefix === '' ? openRouterWatch(routerDeps, open, listener) : open(listener);
    },

    get appliedRevision() {
      return applied();
    },
    get highestRevision() {
      return Math.max(written, applied());
    },
    waitForRevision: (revision, timeoutMs) => waitForRevision(revision, timeoutMs),
    // An unknown revision (the bucket was reset) is one the router will not reach soon either.
    waitUntilRouted: (revision) => waitForRevision(revision, routedWaitMs, false).catch(() => false),
    onCommitted: (listener) => announcer.add(listener),
    settled: () => announcer.settled(),
    forgetSession(sessionId) {
      known.delete(sessionId);
      lives.delete(sessionId);
    },
    noteLife(sessionId, incarnation) {
      lives.set(sessionId, incarnation);
    },
  };
}
