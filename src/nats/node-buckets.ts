/**
 * The buckets a node opens on start, with the settings its options give them: the variables bucket (as the node's
 * tracking store, its watches resumed after a reconnect), the sessions bucket (the session directory and the session
 * listing), the modules
 * bucket (the shared module specs), and the session life on top of them (deletions and expiry).
 * @module
 */
import type { NatsConnection } from 'nats';
import { onConnectionChange } from './connection-options.js';
import type { EventOutbox } from './event-outbox.js';
import { openModuleSpecs, type ModuleSpecs } from './module-specs.js';
import { LEAST_SPEC_VALUE_BYTES } from './spec-room.js';
import { LEAST_RECORD_VALUE_BYTES, SESSION_RECORD_BYTES } from './bucket-value-room.js';
import type { NatsNodeOptions } from './nats-node.js';
import { assertBucketSettings, assertExistingBuckets } from './kv-bucket-settings.js';
import { bucketResetCheck } from './bucket-reset-check.js';
import { bucketsOf } from './node-names.js';
import { createNodeStore, type NodeStore } from './node-store.js';
import { createSessionDirectory } from './session-directory.js';
import type { SessionListing } from './session-listing.js';
import { reportServerDefects } from './server-defects.js';
import { openSessionLife, type SessionLife } from './session-life.js';
import { createSubjects, type TetherSubjects } from './subjects.js';

/** The options of a node that say how its buckets are made. */
export type NodeBucketOptions = Pick<
  NatsNodeOptions,
  | 'variablesBucket'
  | 'sessionsBucket'
  | 'modulesBucket'
  | 'replicas'
  | 'historyDepth'
  | 'maxRecordBytes'
  | 'unavailableRetryMs'
  | 'prefix'
>;

/** What {@link openNodeBuckets} opened. */
export interface NodeBuckets {
  readonly store: NodeStore;
  readonly specs: ModuleSpecs;
  readonly life: SessionLife;
  /** The sessions that exist, a page at a time, from the sessions bucket. */
  readonly listing: SessionListing;
  /** The node's subjects (its `prefix`), made once the buckets are open, as the session life needs them. */
  readonly subjects: TetherSubjects;
}

/**
 * Throws `ValidationError` naming the variables bucket unless `historyDepth` and `replicas`, when given, are within
 * KV's bounds (1 to 64, 1 to 5). Checked before connecting: on buckets that exist already an out-of-bounds value was
 * judged as a mismatch (`BucketConfigMismatchError`, "configured 65, actual 64"), asking for a bucket none can make.
 */
export function assertNodeBucketSettings(options: NodeBucketOptions): void {
  const { historyDepth, replicas } = options;
  assertBucketSettings(bucketsOf(options).variablesBucket, { historyDepth, replicas });
}

/**
 * Opens the node's buckets on `connection`, in order, once the existing ones' settings are judged (a bucket whose
 * settings do not match rejects before any is created; what was opened before a later failure is the caller's to
 * close with the connection). `report` is told of failures no request waits for; `events` is the node's event
 * outbox, where the session life publishes the ends of sessions.
 */
export async function openNodeBuckets(
  connection: NatsConnection,
  options: NodeBucketOptions,
  report: (error: unknown, where: string) => void,
  events: EventOutbox,
): Promise<NodeBuckets> {
  const { variablesBucket, sessionsBucket, modulesBucket } = bucketsOf(options);
  const retrying = options.unavailableRetryMs !== undefined ? { unavailableRetryMs: options.unavailableRetryMs } : {};
  const { historyDepth, replicas } = options;
  // All judged before any is created: a start refused for its sessions bucket must leave no variables bucket made.
  await assertExistingBuckets(connection, [
    { bucket: variablesBucket, settings: { historyDepth, replicas }, leastValueSize: LEAST_RECORD_VALUE_BYTES },
    { bucket: sessionsBucket, settings: { replicas }, leastValueSize: SESSION_RECORD_BYTES },
    { bucket: modulesBucket, settings: { replicas }, leastValueSize: LEAST_SPEC_VALUE_BYTES },
  ]);
  const store = await createNodeStore(connection, {
    bucket: variablesBucket,
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.historyDepth !== undefined ? { historyDepth: options.historyDepth } : {}),
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
    ...retrying,
    onListenerError: (error) => report(error, 'store listener'),
    onWatchError: (error) => report(error, `store watch of '${variablesBucket}'`),
    // A StoreUnavailableError naming the bucket and what JetStream lacks (kv-watch.ts), not the bare "503" of nats.js.
    onWatchSlow: (error) => report(error, `store watch of '${variablesBucket}' (cannot reopen yet; still trying)`),
    onTrackingError: (error) => report(error, 'store tracking'),
    onRemovalError: (error) => report(error, "store (removing deleted variables' writes)"),
  });
  // A restarted server has lost the router's consumer; without this the node would see no other node's writes
  // (and time out read-your-writes requests) until nats.js misses two heartbeats, some 13 s later. Until the new
  // consumer is open, the node's revision waits do not run out (the service takes requests again at once).
  // A server back on older storage (a restored backup) leaves the node serving the old bucket: it says so.
  const checkReset = bucketResetCheck(
    connection,
    variablesBucket,
    () => store.appliedRevision,
    (error) => report(error, `variables bucket '${variablesBucket}'`),
  );
  onConnectionChange(connection, (change) => {
    if (change === 'reconnected') {
      checkReset();
      store.resumeWatches();
    } else store.suspendWatches();
  });
  const directory = await createSessionDirectory(connection, {
    bucket: sessionsBucket,
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...retrying,
    onUnreadable: (error) => report(error, 'sessions bucket'),
  });
  const specs = await openModuleSpecs(connection, {
    bucket: modulesBucket,
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...retrying,
    onRemovalError: (error) => report(error, "modules bucket (removing stopped modules' delete markers)"),
    onUnreadable: (error) => report(error, 'modules bucket'),
    // As the variables bucket's: a node whose modules stream alone cannot reopen would otherwise retry silently.
    onWatchSlow: (error) => report(error, `store watch of '${modulesBucket}' (cannot reopen yet; still trying)`),
  });
  // The session life publishes on them; a bad prefix fails here, once the buckets are open.
  const subjects = createSubjects(options.prefix);
  const life = await openSessionLife(connection, {
    directory,
    variables: store,
    variablesBucket,
    modulesBucket,
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...retrying,
    subjects,
    events,
    report,
  });
  // Their replicas as the openers found them: nothing more to ask the server.
  const opened = [
    { name: variablesBucket, replicas: store.replicas },
    { name: sessionsBucket, replicas: directory.replicas },
    { name: modulesBucket, replicas: specs.replicas },
  ];
  reportServerDefects(connection.info?.version, opened, report);
  return { store, specs, life, listing: directory.listing, subjects };
}
