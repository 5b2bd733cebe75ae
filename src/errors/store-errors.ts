/**
 * Errors of a store and its KV buckets: a compare-and-set conflict, a closed store, a bucket unavailable, a JetStream
 * limit, a bucket configured otherwise.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/** A store compare-and-set write found the key at another revision; nothing of the operation was applied. */
export class StoreConflictError extends BridgeError {
  override readonly code = 'store_conflict';
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    readonly actualRevision: number,
    options: BridgeErrorOptions = {},
  ) {
    super(`store key '${key}' is at revision ${actualRevision}, expected ${expectedRevision}`, {
      ...options,
      details: { key, expectedRevision, actualRevision, ...options.details },
    });
  }
}

/** The store was closed; it accepts no more operations. */
export class StoreClosedError extends BridgeError {
  override readonly code = 'store_closed';
  constructor(
    readonly operation: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`store is closed (${operation} refused)`, { ...options, details: { operation, ...options.details } });
  }
}

/** What a write that gave up did: `not_applied` (nothing of it reached the bucket) or `unknown` (see below). */
export type StoreUnavailableOutcome = 'not_applied' | 'unknown';

/** Options of {@link StoreUnavailableError}: besides cause and details, how its message names what gave up and why. */
export interface StoreUnavailableOptions extends BridgeErrorOptions {
  /** What gave up, for its caller, e.g. `create of module 'qa' in session 's1'`. @default `<operation> of '<key>'` */
  readonly what?: string;
  /**
   * Why the bucket was not served, when it was not for want of a stream leader, e.g. `NATS connection lost;
   * reconnecting` (the operation then failed at once, `waitedMs` 0). @default no leader answering for `waitedMs`
   */
  readonly reason?: string;
  /**
   * Whether the operation has not given up (a watch reopening after an outage goes on until JetStream answers): the
   * message then says so in place of what giving up left. @default false
   */
  readonly stillTrying?: boolean;
}

/**
 * A KV bucket was not served. Either JetStream did not serve it within the node's `unavailableRetryMs` (15 s by
 * default): no leader of the bucket's stream answered, as while a NATS cluster elects one (or with the connection
 * down), and the operation was retried until then; or, for the modules bucket, the node's NATS connection is down
 * (a module's creation fails at once while it reconnects) or closed under the operation (`reason` says which,
 * `waitedMs` is 0); or a node's watch of the bucket has failed to reopen after an outage for about a minute, JetStream
 * leaderless or gone from the server (`reason`), which is told to `onError` while the watch goes on trying
 * (`details.stillTrying`). A read changed nothing. A write's `outcome` is `not_applied` when no attempt of it reached a
 * stream leader, so nothing was written, or `unknown` when a publish of it got no answer, so it may have been
 * stored: read the key to find out. `bucket` and `key` name what was asked for; a module's failure also names the
 * module and its session (`details.sessionId`, `details.moduleId`).
 */
export class StoreUnavailableError extends BridgeError {
  override readonly code = 'store_unavailable';
  constructor(
    readonly bucket: string,
    readonly key: string,
    /** The store operation, e.g. `get`, `put`, `delete`, `list`, `history`; a module's `create`, `release`, `read`. */
    readonly operation: string,
    /** How long the operation waited for the bucket, in ms. */
    readonly waitedMs: number,
    readonly outcome: StoreUnavailableOutcome,
    options: StoreUnavailableOptions = {},
  ) {
    const { what = `${operation} of '${key}'`, reason, stillTrying = false, ...rest } = options;
    const outcomeText =
      outcome === 'unknown'
        ? 'a publish of it got no answer and may have been stored (read the key to find out)'
        : 'nothing was written';
    const why =
      reason === undefined ? `had no JetStream leader answering for ${waitedMs} ms` : `was unavailable (${reason})`;
    const end = stillTrying ? 'is still trying' : `gave up; ${outcomeText}`;
    super(`KV bucket '${bucket}' ${why}: ${what} ${end}`, {
      ...rest,
      details: {
        bucket,
        key,
        operation,
        waitedMs,
        outcome,
        ...(options.what === undefined ? {} : { what }),
        ...(reason === undefined ? {} : { reason }),
        ...(stillTrying ? { stillTrying } : {}),
        ...rest.details,
      },
    });
  }
}

/** The JetStream limits that can refuse a bucket operation (see {@link StoreLimitError}). */
export const STORE_LIMITS = ['storage', 'memory', 'streams', 'consumers', 'resources'] as const;

/** One of {@link STORE_LIMITS}. */
export type StoreLimit = (typeof STORE_LIMITS)[number];

/** What each {@link StoreLimit} means, for the message. */
const STORE_LIMIT_PHRASES: Readonly<Record<StoreLimit, string>> = {
  storage: "the NATS account's JetStream storage is full",
  memory: "the NATS account's JetStream memory is full",
  streams: 'the NATS account has as many JetStream streams as it may have (its max_streams)',
  consumers: 'the NATS account has as many JetStream consumers as it may have (its max_consumers)',
  resources: 'the NATS server has no JetStream resources left',
};

/**
 * The JetStream limits of the node's NATS account (or of its server) refused a bucket operation: its storage or
 * memory is full (a write), or it may have no more streams (a bucket's creation at start) or consumers (a watch).
 * Nothing was written (`details.outcome` is `not_applied`). Waiting rarely helps: make room (delete sessions, purge
 * the bucket) or raise the account's limits (the `jetstream` block of its account in the server's config).
 * @example
 * catch (e) { if (e instanceof StoreLimitError) console.log(e.bucket, e.limit) } // 'tether_vars' 'storage'
 */
export class StoreLimitError extends BridgeError {
  override readonly code = 'store_limit_reached';
  readonly outcome = 'not_applied';
  constructor(
    readonly bucket: string,
    readonly key: string,
    /** The store operation, e.g. `put`, `delete`, `open` (a bucket's creation), `watch`. */
    readonly operation: string,
    readonly limit: StoreLimit,
    /** What the server said, e.g. `resource limits exceeded for account`. */
    said?: string,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `KV bucket '${bucket}' refused ${operation} of '${key}': ${STORE_LIMIT_PHRASES[limit]}` +
        `${said === undefined ? '' : ` (${said})`}; nothing was written`,
      { ...options, details: { bucket, key, operation, limit, outcome: 'not_applied', ...options.details } },
    );
  }
}

/**
 * More removals of deleted variables' history wait in a bucket than a node keeps track of (deletes outran them): those
 * asked for from then on, the messages of `key` first, are left undone until fewer wait, the history staying in the
 * stream (a later removal of the same key, or the session's deletion, takes it). Told once to the node's `onError`
 * per overflow; never sent on the wire.
 */
export class RemovalsBacklogError extends BridgeError {
  override readonly code = 'removals_backlog';
  constructor(
    readonly bucket: string,
    /** The removals waiting at most. */
    readonly limit: number,
    /** The first key whose removal was left undone. */
    readonly key: string,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `over ${limit} removals wait in bucket '${bucket}' (deletes outrun them): those asked for now are left undone, ` +
        `the messages of '${key}' first, until fewer wait`,
      { ...options, details: { bucket, limit, key, ...options.details } },
    );
  }
}

/**
 * A KV bucket exists with another setting (its history depth or replicas) than the one a node or store was
 * configured with, with a limit that drops values, or with a value limit too small for what a node stores in it.
 * The bucket is left as it is: configure its value, or change the bucket, and start again.
 */
export class BucketConfigMismatchError extends BridgeError {
  override readonly code = 'bucket_config_mismatch';
  constructor(
    readonly bucket: string,
    /**
     * The option that differs: `historyDepth` or `replicas` (`historyDepth` -1, with `configured` 64, for a bucket
     * keeping every write of a key, whatever was configured); or a limit the bucket must not have (`ttl` in ms,
     * `maxBucketSize` in bytes, `maxMessages`), with `configured` 0; or `maxValueSize`, the bucket's limit of one
     * message in bytes, with `configured` the least the node needs; or a permission its stream withholds, 1 for set
     * and 0 for not: `mirror` and `sealed` (it takes no writes), `denyDelete` (configured 0, actual 1), `allowRollup`
     * (configured 1, actual 0).
     */
    readonly setting: string,
    readonly configured: number,
    readonly actual: number,
    /** `details.option`: how the caller gave the setting (`--history-depth`, say), which the message then names. */
    options: BridgeErrorOptions = {},
  ) {
    const option = typeof options.details?.option === 'string' ? options.details.option : undefined;
    super(mismatchMessage(bucket, setting, configured, actual, option), {
      ...options,
      details: { bucket, setting, configured, actual, ...options.details },
    });
  }
}

/** What a bucket's stream refuses a node with each permission it withholds, and what to do about it. */
const WITHHELD_PERMISSIONS: Readonly<Record<string, string>> = {
  mirror: 'its stream mirrors another, and so takes no writes (configure the bucket it mirrors, or other buckets)',
  sealed: 'its stream is sealed, and so takes no writes, for good (configure other buckets)',
  denyDelete:
    "its stream refuses message deletes (as every bucket `nats kv add` makes does), so a deleted variable's " +
    "history, a stopped module's marker and what a deleted session leaves would stay for good, and a stream can " +
    'never allow them again (make the bucket anew: let a node create it, then set a max value size with ' +
    '`nats stream edit KV_<bucket> --max-msg-size`; or configure other buckets)',
  allowRollup:
    "its stream refuses roll-ups, which a node purges keys with (a deleted session's variables and modules) " +
    '(allow them on the stream, or configure other buckets)',
};

/** The message of a {@link BucketConfigMismatchError}: what is wrong with the bucket, and what to do about it. */
function mismatchMessage(
  bucket: string,
  setting: string,
  configured: number,
  actual: number,
  option: string | undefined,
): string {
  const withheld = WITHHELD_PERMISSIONS[setting];
  if (withheld !== undefined) {
    return `KV bucket '${bucket}' exists with ${setting} ${actual}: ${withheld}; the bucket was left unchanged`;
  }
  if (setting === 'maxValueSize') {
    return (
      `KV bucket '${bucket}' exists with maxValueSize ${actual} bytes, below the ${configured} bytes one of its ` +
      'messages must hold for a node; the bucket was left unchanged (raise or remove its limit, or configure other ' +
      'buckets)'
    );
  }
  if (setting === 'historyDepth' && actual < 1) {
    return (
      `KV bucket '${bucket}' exists with historyDepth ${actual}: its stream keeps every write of a key for good, ` +
      `where a node keeps 1 to ${configured}; the bucket was left unchanged (set a limit on its stream, \`nats stream ` +
      'edit KV_<bucket> --max-msgs-per-subject 64`, or configure other buckets)'
    );
  }
  if (configured === 0) {
    return (
      `KV bucket '${bucket}' exists with ${setting} ${actual}, which drops values without a delete marker, ` +
      'where a Tether bucket keeps each until it is deleted; the bucket was left unchanged (remove the limit ' +
      'from it, or configure other buckets)'
    );
  }
  if (option !== undefined) {
    return (
      `KV bucket '${bucket}' exists with ${setting} ${actual}, not the ${option} ${configured} given; the bucket was ` +
      `left unchanged (give ${option} ${actual}, or leave it out, or change the bucket)`
    );
  }
  return (
    `KV bucket '${bucket}' exists with ${setting} ${actual}, not the configured ${configured}; the bucket was ` +
    `left unchanged (configure ${setting} ${actual}, or change the bucket)`
  );
}
