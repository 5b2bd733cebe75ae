/**
 * Opening a KV bucket with the settings a caller asked for. nats.js creates a missing bucket with them but binds
 * an existing one as it is, so a bucket made earlier with `history: 1` would quietly serve a node configured to
 * keep 64 writes per key (its history and rollback would then find one). A setting given explicitly is checked
 * against the bound bucket and a difference refused with {@link BucketConfigMismatchError}; the bucket is never
 * edited (other nodes may rely on it). A setting left out takes the bucket as it is. The open itself waits out a
 * busy or leaderless cluster (kv-bucket-open.ts), and the bucket's own value limit is handed to the caller, whose
 * limits follow it (bucket-value-room.ts).
 * @module
 */
import type { KV, NatsConnection, StreamConfig } from 'nats';
import { BucketConfigMismatchError, type BridgeError, ValidationError } from '../errors.js';
import { apiErrorCode } from './jetstream-api-error.js';
import { openKvView } from './kv-bucket-open.js';
import { jetStreamRefusal } from './jetstream-refusal.js';
import { isStreamNotFound } from './retry-unavailable.js';
import { assertValueRoom } from './bucket-value-room.js';
import { printable } from '../printable.js';

/** The settings a caller gave explicitly; each one left out is accepted as the existing bucket has it. */
export interface BucketSettings {
  /** Writes kept per key: the bucket's `history` (1 to 64, as KV allows). */
  readonly historyDepth?: number | undefined;
  /** Copies of the bucket on a clustered JetStream (1 to 5). */
  readonly replicas?: number | undefined;
}

/** What a bucket is created with when a setting is left out. */
export interface BucketDefaults {
  readonly historyDepth: number;
}

/** JetStream's "replicas > 1 not supported in non-clustered mode": a setting this server cannot honour. */
const REPLICAS_NEED_CLUSTER = 10074;

/** JetStream KV's bounds: a key keeps at most 64 writes, a stream at most 5 replicas. */
const LIMITS = { historyDepth: 64, replicas: 5 } as const;

/** Throws a {@link ValidationError} naming the bucket unless each given setting is an integer within its bounds. */
export function assertBucketSettings(bucket: string, settings: BucketSettings): void {
  for (const setting of ['historyDepth', 'replicas'] as const) {
    const value = settings[setting];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1 || value > LIMITS[setting]) {
      throw new ValidationError(
        `${setting} of KV bucket '${bucket}' must be an integer from 1 to ${LIMITS[setting]}, got ${printable(value)}`,
        { details: { bucket, setting, value } },
      );
    }
  }
}

/**
 * A bound bucket and the replicas its stream runs (which decide how its compare-and-set writes go out); a
 * replicated one is read from its stream's leader.
 */
export interface OpenedKvBucket {
  readonly kv: KV;
  readonly replicas: number;
  /** The writes of each key it keeps. */
  readonly historyDepth: number;
  /** The stream's duplicate window in ms (how long it remembers message ids). */
  readonly duplicateWindowMs: number;
  /**
   * The most bytes one message of the bucket may take, headers included (its stream's `max_msg_size`, set with
   * `nats stream edit KV_<bucket> --max-msg-size`); `undefined` for no limit but the server's. See bucket-value-room.ts.
   */
  readonly maxValueSize: number | undefined;
}

/**
 * Limits a bucket made elsewhere may have that Tether's must not: with any of them the server drops values unseen
 * (no delete marker for a watcher or a history), so nodes would serve a value another no longer has.
 */
const DROPPING_LIMITS = ['ttl', 'maxBucketSize', 'maxMessages'] as const;

/**
 * What a node needs of a bucket's stream, which one made elsewhere may withhold: writes at all (a mirror's stream has
 * no subjects, so a node's first watch failed with nats.js's bare error, or, on a mirrored sessions bucket, every
 * write went unanswered until it gave up as an outage; a sealed stream refuses them), message deletes (a deleted
 * variable's history and a stopped module's marker leave 10 s later, see late-removals.ts; a deleted session's purge
 * markers at once, see session-removal.ts) and roll-ups (a purge of a key). Without the last two that history would
 * stay for good, its removals refused. nats.go, and so `nats kv add`, makes every KV stream with `deny_delete`, which
 * JetStream never lets a stream drop; nats.js, which makes a missing bucket here, does not. Sealing sets
 * `deny_delete` too: `sealed` comes first, so the refusal names the cause.
 */
const WITHHELD_PERMISSIONS = [
  { setting: 'mirror', withheld: (config: StreamConfig) => config.mirror != null, configured: 0 },
  { setting: 'sealed', withheld: (config: StreamConfig) => config.sealed === true, configured: 0 },
  { setting: 'denyDelete', withheld: (config: StreamConfig) => config.deny_delete === true, configured: 0 },
  { setting: 'allowRollup', withheld: (config: StreamConfig) => config.allow_rollup_hdrs !== true, configured: 1 },
] as const;

/** Where and how a bucket is opened: the connection, the bucket, and how an open that fails is reported. */
export interface BucketOpening {
  readonly connection: NatsConnection;
  readonly bucket: string;
  /** How long the open waits for an unavailable cluster (the node's `unavailableRetryMs`), in ms. */
  readonly retryMs: number;
  /** Wraps a library failure, so each caller names its own operation. */
  readonly failed: (error: unknown) => BridgeError;
}

/**
 * Opens the KV bucket `bucket`, creating it with `settings` (or `defaults`, and one replica) when it is missing,
 * and checks the settings given explicitly against the bucket it bound. The open waits for an unavailable cluster
 * (kv-bucket-open.ts); a library failure (opening, or reading the bucket's configuration) goes through `failed`.
 * @throws {ValidationError} for a setting out of bounds, before anything is opened
 * @throws {BucketConfigMismatchError} when the existing bucket has another value for a setting given explicitly,
 *   one of the {@link DROPPING_LIMITS}, or withholds one of the {@link WITHHELD_PERMISSIONS}
 * @throws {ValidationError} when the server refuses to create the bucket with more than one replica (a server
 *   that is not part of a JetStream cluster keeps one copy)
 * @throws {StoreUnavailableError} when the cluster did not answer within `retryMs` (operation `open`)
 * @throws {NatsConnectionError} (`refused`) when the NATS permissions refuse a subject the open needs
 */
export async function openKvBucket(
  opening: BucketOpening,
  settings: BucketSettings,
  defaults: BucketDefaults,
): Promise<OpenedKvBucket> {
  const { connection, bucket } = opening;
  // Permissions refusing a subject the open needs are the deployment's, whichever bucket is opened.
  const failed = (error: unknown): BridgeError =>
    jetStreamRefusal(error, { connection, bucket, operation: 'open', key: bucket }) ?? opening.failed(error);
  assertBucketSettings(bucket, settings);
  const options = { history: settings.historyDepth ?? defaults.historyDepth, replicas: settings.replicas ?? 1 };
  // Asked of every bucket, not only when there is something to compare: the writes need its replicas.
  const opened = await openKvView(connection, bucket, options, opening.retryMs, (error) => {
    // The server answered, and what it refuses is the configuration: the user's to change, not an outage.
    if (apiErrorCode(error) !== REPLICAS_NEED_CLUSTER) return failed(error);
    return new ValidationError(
      `KV bucket '${bucket}' cannot be created with replicas ${printable(settings.replicas)}: this NATS server is ` +
        'not part of a JetStream cluster and keeps one copy (configure replicas 1, or run a cluster)',
      { cause: error, details: { bucket, setting: 'replicas', value: settings.replicas } },
    );
  });
  const { status } = opened;
  let { kv } = opened;
  const { config } = status.streamInfo;
  const actual = assertBucketMatches(bucket, settings, config);
  // Nanoseconds in the stream config; the server's default, two minutes, where a config leaves it out.
  const duplicateWindowMs = (config.duplicate_window ?? 120e9) / 1e6;
  if (actual.replicas > 1) {
    // A KV bucket allows direct gets, which any replica answers, one that has not applied the latest writes too:
    // a node read back a module spec it had just written and found none. Bound again without them, its reads go
    // to the stream's leader, which has every acknowledged write. The bucket itself is left as it is. Binding asks
    // the server nothing (no account check either), so it cannot meet an unavailable cluster.
    try {
      kv = await connection.jetstream({ checkAPI: false }).views.kv(bucket, { bindOnly: true, allow_direct: false });
    } catch (error) {
      throw failed(error);
    }
  }
  // The stream's max_msg_size (`nats stream edit --max-msg-size`): -1 and 0 both mean no limit.
  const maxValueSize = status.maxValueSize > 0 ? status.maxValueSize : undefined;
  return { kv, replicas: actual.replicas, historyDepth: actual.historyDepth, duplicateWindowMs, maxValueSize };
}

/**
 * Checks a bucket's stream configuration against the settings given explicitly; returns what it has.
 * @throws {BucketConfigMismatchError} when it has another value for a setting given explicitly, keeps every write of
 *   a key, has one of the {@link DROPPING_LIMITS}, or withholds one of the {@link WITHHELD_PERMISSIONS}
 */
function assertBucketMatches(
  bucket: string,
  settings: BucketSettings,
  config: StreamConfig,
): { historyDepth: number; replicas: number } {
  // A stream config without replicas runs one.
  const actual = { historyDepth: config.max_msgs_per_subject, replicas: config.num_replicas || 1 };
  for (const setting of ['historyDepth', 'replicas'] as const) {
    const configured = settings[setting];
    if (configured !== undefined && actual[setting] !== configured) {
      throw new BucketConfigMismatchError(bucket, setting, configured, actual[setting]);
    }
  }
  // A stream that keeps every write of a key (-1; 0 is stored so): the store reads a key's last `historyDepth` writes,
  // and took -1 for "all but the oldest", so every history and rollback silently missed the first version.
  if (actual.historyDepth < 1) {
    throw new BucketConfigMismatchError(bucket, 'historyDepth', LIMITS.historyDepth, actual.historyDepth);
  }
  // -1 and 0 both mean no limit; the age limit is in nanoseconds, said in ms.
  const limits = {
    ttl: Math.floor(Math.max(config.max_age, 0) / 1e6),
    maxBucketSize: Math.max(config.max_bytes, 0),
    maxMessages: Math.max(config.max_msgs, 0),
  };
  for (const limit of DROPPING_LIMITS) {
    if (limits[limit] > 0) throw new BucketConfigMismatchError(bucket, limit, 0, limits[limit]);
  }
  for (const { setting, withheld, configured } of WITHHELD_PERMISSIONS) {
    if (withheld(config)) throw new BucketConfigMismatchError(bucket, setting, configured, 1 - configured);
  }
  return actual;
}

/** How long {@link assertExistingBuckets} waits for each answer: a cluster that takes longer is left to the open. */
const LOOK_AHEAD_TIMEOUT_MS = 1000;

/** A bucket a node opens, the settings given for it and the least value size its open requires of it. */
export interface WantedBucket {
  readonly bucket: string;
  readonly settings: BucketSettings;
  /** See `assertValueRoom` (bucket-value-room.ts). */
  readonly leastValueSize: number;
}

/**
 * Checks the buckets among `wanted` that exist already against the settings given for each, before any of them is
 * opened: a start refused for one bucket must not have created the others first (made with the settings of the start
 * that was refused, they would refuse the corrected one). A bucket whose configuration cannot be read in time (a busy
 * cluster) ends the checks: its open checks it, and waits for the cluster, as it always does.
 * @throws {BucketConfigMismatchError} as the bucket's open would
 */
export async function assertExistingBuckets(
  connection: NatsConnection,
  wanted: readonly WantedBucket[],
): Promise<void> {
  let streams;
  try {
    streams = (await connection.jetstreamManager({ checkAPI: false, timeout: LOOK_AHEAD_TIMEOUT_MS })).streams;
  } catch {
    return;
  }
  for (const { bucket, settings, leastValueSize } of wanted) {
    let config: StreamConfig;
    try {
      config = (await streams.info(`KV_${bucket}`)).config;
    } catch (error) {
      // Missing: its open creates it. Anything else: its open finds out again, and says so.
      if (isStreamNotFound(error)) continue;
      return;
    }
    assertBucketMatches(bucket, settings, config);
    // -1 and 0 both mean no limit.
    assertValueRoom(bucket, config.max_msg_size > 0 ? config.max_msg_size : undefined, leastValueSize);
  }
}

/**
 * Opens a bucket that keeps one write per key (the session directory, the module specs): created with history 1,
 * and only `replicas`, when given, is checked against an existing bucket. See {@link openKvBucket}.
 */
export function openSingleWriteBucket(opening: BucketOpening, replicas: number | undefined): Promise<OpenedKvBucket> {
  return openKvBucket(opening, { replicas }, { historyDepth: 1 });
}
