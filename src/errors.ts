/**
 * Every error Tether raises. Each class carries a stable `code` that also travels over NATS, readonly context
 * fields, the ids involved in its message, and the original `cause` when it wraps a library error.
 * @module
 */

/** The JSON shape an error takes on the wire and in call replies. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Options shared by every Tether error. */
export interface BridgeErrorOptions {
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

/**
 * The base of every Tether error.
 * @example
 * try { await session.setVariable('t', 9) } catch (e) { if (e instanceof BridgeError) console.log(e.code) }
 */
export class BridgeError extends Error {
  readonly code: string = 'bridge_error';
  /** Structured context; what {@link BridgeError.toJSON} sends as `details`. */
  readonly details: Record<string, unknown>;

  constructor(message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  /** The wire form: `{ code, message, details }`. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A value, a name, an option or a payload that breaks the rules. Nothing was changed. */
export class ValidationError extends BridgeError {
  override readonly code = 'validation_failed';
  /** The variable (or field) the error is about, when there is one. */
  readonly variable: string | undefined;

  constructor(message: string, options: BridgeErrorOptions & { variable?: string } = {}) {
    super(message, {
      ...options,
      details: { ...options.details, ...(options.variable ? { variable: options.variable } : {}) },
    });
    this.variable = options.variable;
  }
}

/** The named variable does not exist in the session. */
export class VariableNotFoundError extends BridgeError {
  override readonly code = 'variable_not_found';
  constructor(
    readonly sessionId: string,
    readonly variable: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`variable '${variable}' not found in session '${sessionId}'`, {
      ...options,
      details: { sessionId, variable, ...options.details },
    });
  }
}

/** Why a session cannot serve a request. */
export type SessionErrorCode = 'session_not_found' | 'session_expired' | 'session_stopped';

/** The session does not exist, expired after its idle TTL, or was stopped. */
export class SessionError extends BridgeError {
  override readonly code: SessionErrorCode;
  /** `sessionId` is {@link EVERY_SESSION} for a refusal that names no one session (a listing after a stop). */
  constructor(
    code: SessionErrorCode,
    readonly sessionId: string,
    options: BridgeErrorOptions = {},
  ) {
    const why = { session_not_found: 'not found', session_expired: 'expired', session_stopped: 'stopped' }[code];
    const which = sessionId === EVERY_SESSION ? 'every session' : `session '${sessionId}'`;
    // A request bound to a life that is not the current one: the session may be there, in another life.
    const life = options.details?.incarnation;
    const ofLife =
      code === 'session_not_found' && typeof life === 'string'
        ? ` in the life the request names ('${life}', Tether-Incarnation): that life is over, or never was`
        : '';
    super(`${which} ${why}${ofLife}`, { ...options, details: { sessionId, ...options.details } });
    this.code = code;
  }
}

/**
 * The `sessionId` of a {@link SessionError} about every session of a runtime or client, none in particular: a
 * stopped runtime's or a closed client's `listSessions` is refused with "every session stopped".
 */
export const EVERY_SESSION = '*';

/**
 * Whether `error` says the session is not there: never opened, deleted, or expired (a life that is over). Narrows to
 * those two codes only: a `SessionError` it is false for (`session_stopped`) stays one.
 */
export const isSessionGone = (
  error: unknown,
): error is SessionError & { readonly code: 'session_not_found' | 'session_expired' } =>
  error instanceof SessionError && (error.code === 'session_not_found' || error.code === 'session_expired');

/** Something with that name or id exists already; the original is kept. */
export class AlreadyExistsError extends BridgeError {
  override readonly code = 'already_exists';
  constructor(
    readonly kind: string,
    readonly id: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`${kind} '${id}' already exists`, { ...options, details: { kind, id, ...options.details } });
  }
}

/** A compare-and-set write found another version than it expected. Nothing was written. */
export class VersionConflictError extends BridgeError {
  override readonly code = 'version_conflict';
  constructor(
    readonly variable: string,
    /** The version the caller named; `undefined` when it named none and the variable kept moving under the write. */
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
    options: BridgeErrorOptions = {},
  ) {
    super(conflictMessage(variable, expectedVersion, actualVersion, options.details), {
      ...options,
      details: { variable, expectedVersion, actualVersion, ...options.details },
    });
  }
}

/**
 * What a {@link VersionConflictError} says: the versions, or, when its details name another id than the one
 * expected (`expectedId`, `actualId`), both ids: the variable was defined again since (its versions start again at
 * 1), or the id expected was never this variable's (a typo, another variable's), which the error cannot tell apart.
 */
function conflictMessage(
  variable: string,
  expectedVersion: number | undefined,
  actualVersion: number | undefined,
  details: Readonly<Record<string, unknown>> | undefined,
): string {
  const at = `is at version ${actualVersion ?? 'none'}`;
  if (typeof details?.expectedId === 'string' && details.expectedId !== details.actualId)
    return (
      `variable '${variable}' has id ${String(details.actualId)}, not the id expected, ${details.expectedId} ` +
      `(it was defined again since, or that id was never this variable's); it ${at}`
    );
  return `variable '${variable}' ${at}, expected version ${expectedVersion ?? 'none'}`;
}

/**
 * The variable is locked by another owner and refuses the write. `details.requestedBy` is who the write named (its
 * `updatedBy`, or the owner an `unlock` or `lock` gave), `null` when it named nobody: always present, so the details
 * read the same in-process and after a trip through JSON, which drops an `undefined`.
 */
export class VariableLockedError extends BridgeError {
  override readonly code = 'variable_locked';
  constructor(
    readonly variable: string,
    readonly lockedBy: string,
    readonly requestedBy: string | undefined,
    options: BridgeErrorOptions = {},
  ) {
    super(`variable '${variable}' is locked by '${lockedBy}'${requestedBy ? `, not '${requestedBy}'` : ''}`, {
      ...options,
      details: { variable, lockedBy, requestedBy: requestedBy ?? null, ...options.details },
    });
  }
}

/** No module type is registered under that name (which a module's type variable holds, when `variable` is set). */
export class UnknownModuleError extends BridgeError {
  override readonly code = 'unknown_module';
  /** The type variable that holds the name, when the name came from one. */
  readonly variable: string | undefined;

  constructor(
    readonly moduleType: string,
    readonly available: readonly string[],
    options: BridgeErrorOptions & { variable?: string } = {},
  ) {
    const held = options.variable === undefined ? '' : ` (held by variable '${options.variable}')`;
    super(`Unknown module type '${moduleType}'${held}; available: ${available.join(', ')}`, {
      ...options,
      details: {
        moduleType,
        available,
        ...(options.variable === undefined ? {} : { variable: options.variable }),
        ...options.details,
      },
    });
    this.variable = options.variable;
  }
}

/**
 * No module with that id exists in the session: none was created, or it was stopped. Over NATS this is the
 * answer for a module no node can wake (its spec is not in the modules bucket); embedded `session.module(id)`
 * without a spec keeps answering `NoProcError` for a module with no process on this node.
 */
export class ModuleNotFoundError extends BridgeError {
  override readonly code = 'module_not_found';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`module '${moduleId}' not found in session '${sessionId}'`, {
      ...options,
      details: { sessionId, moduleId, ...options.details },
    });
  }
}

/** What a timed-out request that may write did, when known (`details.outcome`), as its message says it. */
const TIMEOUT_FATES: Readonly<Record<string, string>> = {
  unknown: '; whether it took effect is unknown',
  not_applied: '; nothing of it was applied',
};

/** What a module's execution was doing when its wait ran out (`details.stage`), as the message says it. */
const TIMEOUT_STAGES: Readonly<Record<string, string>> = {
  queued: ' while queued behind other executions of the module',
  syncing: ' while syncing its bound variables',
  executing: " while executing (its program, and the model's answers it waits for)",
};

/**
 * A `call` got no reply within its timeout. A reply arriving later is dropped. Over NATS, `details.outcome` says what
 * a request that may write did: `unknown` when the wait ran out while the request may still be applied (the
 * client's own timeout, or a node's call to its session process), `not_applied` when a node refused to start it (a
 * revision it did not reach in time, reads too); the client's own timeout of a read has none. A module execution's
 * timeout names the execution in `details.sessionId`, `details.moduleId` and `details.executionId`, on an embedded
 * handle as on a remote one (`details.processId` too when a module process's wait ran out, wherever it ran), and what
 * the execution was doing then in `details.stage` (`queued`, `syncing` or `executing`) when the module process's own
 * wait ran out: a provider slower than the timeout shows as `executing`. A node
 * that did not apply the revision a request asked for in time (`details.minRevision`) says so: `waiting for the node
 * to apply revision 34 timed out after 2000 ms; nothing of it was applied`.
 */
export class CallTimeoutError extends BridgeError {
  override readonly code = 'call_timeout';
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
    options: BridgeErrorOptions = {},
  ) {
    const outcome = options.details?.outcome;
    const fate = typeof outcome === 'string' ? (TIMEOUT_FATES[outcome] ?? '') : '';
    const stage = options.details?.stage;
    const where = typeof stage === 'string' ? (TIMEOUT_STAGES[stage] ?? '') : '';
    // A node's read-your-writes wait (`details.minRevision`, target `revision 34`) is no call: said as what it is,
    // wherever the error is built again from its details (a client, a copy naming the execution).
    const variable = options.details?.variable;
    const what =
      typeof options.details?.minRevision === 'number'
        ? `waiting for the node to apply ${target}`
        : `call to '${target}'${typeof variable === 'string' ? ` writing variable '${variable}'` : ''}`;
    super(`${what} timed out after ${timeoutMs} ms${where}${fate}`, {
      ...options,
      details: { target, timeoutMs, ...options.details },
    });
  }
}

/**
 * A request asked a node to wait for a bucket revision (the variables bucket's, or the modules bucket's) above the
 * bucket's last revision. Revisions only rise within one bucket, and every revision a client was shown is in it, so
 * that revision came from an earlier bucket of the same name: the bucket was deleted and created again, or the
 * server's JetStream storage was reset. No wait can bring it; `currentRevision` is where the bucket is now, and
 * `header` the request header that asked for it (`Tether-Min-Revision` or `Tether-Min-Modules-Revision`, in
 * `details.header`). The remote client takes it as its revision of that bucket and sends the request again, once
 * per header. Nothing was changed.
 */
export class RevisionUnknownError extends BridgeError {
  override readonly code = 'revision_unknown';
  /** The request header whose revision was refused (`details.header`); `Tether-Min-Revision` when not told. */
  readonly header: string;
  constructor(
    /** The bucket, e.g. `tether_vars`. */
    readonly bucket: string,
    /** The revision the request asked for (in its {@link header}). */
    readonly minRevision: number,
    /** The bucket's last revision when the node read it. */
    readonly currentRevision: number,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `revision ${minRevision} is above the last revision ${currentRevision} of bucket '${bucket}': the bucket ` +
        `was re-created or its JetStream storage reset since that revision was seen; carry on from revision ` +
        `${currentRevision}`,
      { ...options, details: { bucket, minRevision, currentRevision, ...options.details } },
    );
    const header = options.details?.['header'];
    this.header = typeof header === 'string' ? header : 'Tether-Min-Revision';
  }
}

/** The target process is not alive (never was, or exited). */
export class NoProcError extends BridgeError {
  override readonly code = 'noproc';
  constructor(
    readonly target: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`no process '${target}' is alive`, { ...options, details: { target, ...options.details } });
  }
}

/**
 * A `Runtime` was asked to start a process (`spawn`, and so a supervisor's start) after its `stop()` began: a stopped
 * runtime would never stop it, nor restart it, so nothing is started. Start a new `Runtime`.
 */
export class RuntimeStoppedError extends BridgeError {
  override readonly code = 'runtime_stopped';
  constructor(
    /** What was refused: `spawn of '<name>'`, or `spawn` for an unnamed process. */
    readonly operation: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`the runtime was stopped: ${operation} refused (start a new Runtime)`, {
      ...options,
      details: { operation, ...options.details },
    });
  }
}

/** The target process exited (crashed or was stopped) while a call to it was waiting for its reply. */
export class ProcessExitedError extends BridgeError {
  override readonly code = 'process_exited';
  constructor(
    readonly target: string,
    readonly reason: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`process '${target}' exited (${reason}) before replying`, {
      ...options,
      details: { target, reason, ...options.details },
    });
  }
}

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
 * A KV bucket exists with another setting (its history depth or replicas) than the one a node or store was
 * configured with, with a limit that drops values, or with a value limit too small for what a node stores in it.
 * The bucket is left as it is: configure its value, or change the bucket, and start again.
 */
export class BucketConfigMismatchError extends BridgeError {
  override readonly code = 'bucket_config_mismatch';
  constructor(
    readonly bucket: string,
    /**
     * The option that differs: `historyDepth` or `replicas`; or a limit the bucket must not have (`ttl` in ms,
     * `maxBucketSize` in bytes, `maxMessages`), with `configured` 0; or `maxValueSize`, the bucket's limit of one
     * message in bytes, with `configured` the least the node needs; or a permission its stream withholds, 1 for set
     * and 0 for not: `denyDelete` (configured 0, actual 1), `allowRollup` (configured 1, actual 0).
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

/**
 * The NATS server a node connected to has a known defect that can leave the copies of a replicated bucket
 * different, which Tether cannot work around: told to the node's `onError` once at start, never thrown and never
 * sent on the wire. The node runs all the same; upgrade the servers to `fixedIn` or later.
 */
export class NatsServerDefectError extends BridgeError {
  override readonly code = 'nats_server_defect';
  constructor(
    /** The version the server reported (its `INFO`). */
    readonly serverVersion: string,
    /** The node's buckets that run more than one replica there. */
    readonly buckets: readonly string[],
    /** The first release with the fix. */
    readonly fixedIn: string,
    /** What goes wrong, and when. */
    defect: string,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `nats-server ${serverVersion} (before ${fixedIn}): ${defect}; replicated buckets here: ` +
        `${buckets.map((bucket) => `'${bucket}'`).join(', ')}. Upgrade the NATS servers to ${fixedIn} or later`,
      { ...options, details: { serverVersion, buckets: [...buckets], fixedIn, ...options.details } },
    );
  }
}

/**
 * Why a node's held output went undelivered (see {@link HeldOutputDroppedError}): `over_limit`, it fell due past the
 * bytes a node holds at most; `not_back`, it was still held when the node's stop gave up waiting for its connection;
 * `send_failed`, it failed as it was sent, once the connection was back or as it closed for good.
 */
export const HELD_OUTPUT_DROP_REASONS = ['over_limit', 'not_back', 'send_failed'] as const;

/** One of {@link HELD_OUTPUT_DROP_REASONS}. */
export type HeldOutputDropReason = (typeof HELD_OUTPUT_DROP_REASONS)[number];

/** The context of a {@link HeldOutputDroppedError}, as its reason has it. */
export interface HeldOutputDropContext {
  /** `over_limit`: the bytes a node holds at most. */
  readonly limit?: number;
  /** `not_back`: how long the stop waited for the connection from the first of them falling due, in ms. */
  readonly waitedMs?: number;
  /** `send_failed`: when they were sent, once the connection was back (`reconnected`) or as it closed for good. */
  readonly when?: 'reconnected' | 'closed';
}

/** What went undelivered: the replies, notices and events a node held while its connection was down. */
const HELD_OUTPUT = 'the replies, notices and events due while the connection was down';

/**
 * A node's replies, acceptance notices or events that it held while its own NATS connection was down went
 * undelivered: `count` of them, `bytes` in all, for `reason` (see {@link HeldOutputDropReason}; `details` add the
 * `limit`, the `waitedMs` or `when`, and a send that failed keeps its first failure as `cause`). Their callers wait for
 * their timeouts (or ask for a kept reply), their subscribers miss them. Told to the node's `onError`; never sent on
 * the wire.
 * @example
 * onError: (e) => { if (e instanceof HeldOutputDroppedError) console.log(e.count, e.reason) } // 3 'not_back'
 */
export class HeldOutputDroppedError extends BridgeError {
  override readonly code = 'held_output_dropped';
  constructor(
    readonly count: number,
    readonly reason: HeldOutputDropReason,
    /** Their payloads' size in all, in bytes. */
    readonly bytes: number,
    context: HeldOutputDropContext = {},
    options: BridgeErrorOptions = {},
  ) {
    const { limit, waitedMs, when } = context;
    const sentWhen = when === 'closed' ? 'when it closed for good' : 'once it was back';
    const what = {
      over_limit: `dropped ${count} of ${HELD_OUTPUT}: over the ${limit} bytes held at most`,
      not_back:
        `dropped ${count} of ${HELD_OUTPUT}: its connection was not back within ${waitedMs} ms of the first ` +
        'falling due, and the node stopped',
      send_failed: `${count} of ${HELD_OUTPUT} could not be sent ${sentWhen}`,
    }[reason];
    super(what, { ...options, details: { count, reason, bytes, ...context, ...options.details } });
  }
}

/**
 * ` <preposition> module '<id>'` when `options` name a module (details.moduleId): a module process's provider
 * failure names its module, here and when rebuilt from the wire.
 */
function forModule(options: BridgeErrorOptions, preposition: 'to' | 'for'): string {
  const moduleId = options.details?.moduleId;
  return typeof moduleId === 'string' ? ` ${preposition} module '${moduleId}'` : '';
}

/** The LLM provider refused or failed a request (HTTP error, authentication); the message carries its words. */
export class ProviderError extends BridgeError {
  override readonly code = 'provider_error';
  constructor(
    readonly provider: string,
    readonly status: number,
    readonly providerMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`provider '${provider}' answered HTTP ${status}${forModule(options, 'to')}: ${providerMessage}`, {
      ...options,
      details: { provider, status, providerMessage, ...options.details },
    });
  }
}

/** Why a provider gave no usable answer though it sent no HTTP error (see {@link ProviderUnavailableError}). */
export const PROVIDER_UNAVAILABLE_REASONS = ['unreachable', 'timeout', 'malformed_response', 'interrupted'] as const;

/** One of {@link PROVIDER_UNAVAILABLE_REASONS}. */
export type ProviderUnavailableReason = (typeof PROVIDER_UNAVAILABLE_REASONS)[number];

const UNAVAILABLE_PHRASES: Record<ProviderUnavailableReason, string> = {
  unreachable: 'could not be reached',
  timeout: 'did not answer in time',
  malformed_response: 'answered with a body that is not a chat completion',
  interrupted: 'stopped its answer before it was complete',
};

/**
 * The provider gave no answer an execution could read, without an HTTP error to say why: its address could not be
 * reached or its connection dropped before the answer was complete (`unreachable`), it did not answer within Ax's
 * timeout (`timeout`), or it answered with a body that is not a chat completion: not JSON, as a proxy's error page
 * is, or JSON of another shape, as a gateway's error object sent with HTTP 200 is (`malformed_response`), or it
 * stopped its answer before it was complete for a cause of its own, as DeepSeek's finish reason
 * `insufficient_system_resource` says (`interrupted`). Unlike an `internal_error`, it is the provider's or the
 * network's state, not Tether's, and worth retrying as a 503 from the provider is; on the wire its status is 502 (a
 * bad gateway: the node is fine).
 */
export class ProviderUnavailableError extends BridgeError {
  override readonly code = 'provider_unavailable';
  constructor(
    readonly provider: string,
    readonly reason: ProviderUnavailableReason,
    readonly providerMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`provider '${provider}' ${UNAVAILABLE_PHRASES[reason]}${forModule(options, 'for')}: ${providerMessage}`, {
      ...options,
      details: { provider, reason, providerMessage, ...options.details },
    });
  }
}

/**
 * A tool of a ReAct module threw while an execution was running it, so the execution failed. Ax does not hand a
 * tool's error back to the model (only its own argument-validation errors), it ends the program; `toolMessage` is
 * what the tool threw, and `details.toolErrorCode` the code of a Tether error it threw (say a variable write the
 * tool made was refused). A tool that wants the model to see a failure and carry on returns it as its result.
 */
export class ToolFailedError extends BridgeError {
  override readonly code = 'tool_failed';
  constructor(
    readonly tool: string,
    readonly toolMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`tool '${tool}' failed: ${toolMessage}`, { ...options, details: { tool, toolMessage, ...options.details } });
  }
}

/**
 * Why a model's answer was of no use (see {@link ModelAnswerError}): `invalid`, a field the signature asks for was
 * missing or its value was not of the field's type or class, the model refused (an OpenAI `refusal`), or a ReAct
 * answer called a tool that does not exist, still so after the module's `maxRetries` corrections, or called one with
 * arguments that are not JSON, or the provider ended the answer with a finish reason that does not say it is complete;
 * `max_steps`, a ReAct module used its `maxSteps` without a final answer; `max_tokens`, the provider cut the answer
 * off at its max tokens (`maxTokens`), or at the model's context length (Mistral's `model_length`), before it was
 * complete; `content_filter`, the provider's content filter stopped the answer.
 */
export const MODEL_ANSWER_PROBLEMS = ['invalid', 'max_steps', 'max_tokens', 'content_filter'] as const;

/** One of {@link MODEL_ANSWER_PROBLEMS}. */
export type ModelAnswerProblem = (typeof MODEL_ANSWER_PROBLEMS)[number];

/**
 * The provider answered, but the model's answer could not be used: the signature's fields were not in it as the
 * signature types them, or a ReAct module ran out of steps (`reason`, `problem` says what). Neither the node's nor
 * the provider's fault, nor the caller's inputs: another try may do (models vary), a clearer signature or
 * instruction, a more capable model or more steps will. On the wire its status is 502, as the provider's answer
 * is what was bad.
 */
export class ModelAnswerError extends BridgeError {
  override readonly code = 'model_answer_invalid';
  constructor(
    readonly provider: string,
    readonly reason: ModelAnswerProblem,
    readonly problem: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`the answer of provider '${provider}'${forModule(options, 'for')} could not be used: ${problem}`, {
      ...options,
      details: { provider, reason, problem, ...options.details },
    });
  }
}

/** A `DynamicSupervisor` already supervises `maxChildren` children and refuses another one. */
export class MaxChildrenError extends BridgeError {
  override readonly code = 'max_children';
  constructor(
    readonly supervisor: string,
    readonly maxChildren: number,
    options: BridgeErrorOptions = {},
  ) {
    super(`supervisor '${supervisor}' already has its maximum of ${maxChildren} children`, {
      ...options,
      details: { supervisor, maxChildren, ...options.details },
    });
  }
}

/**
 * A child could not be started: its `start` threw, its name was taken, or its logic crashed while starting.
 * The original error is the `cause`.
 */
export class ChildStartError extends BridgeError {
  override readonly code = 'child_start_failed';
  constructor(
    readonly supervisor: string,
    readonly childId: string,
    options: BridgeErrorOptions = {},
  ) {
    const why = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`supervisor '${supervisor}' could not start child '${childId}'${why}`, {
      ...options,
      details: { supervisor, childId, ...options.details },
    });
  }
}

/**
 * A supervisor gave up: a child needed one restart more than `maxRestarts` within `maxSeconds` (OTP's
 * `reached_max_restart_intensity`). As OTP's, the supervisor stopped its other children and exited with `'shutdown'`;
 * this error is what says why, told to its runtime's `onError` (source `'restart'`) as OTP's supervisor report is
 * logged. `cause` is the child's crash error, or the `ChildStartError` of its restart that failed.
 */
export class MaxRestartIntensityError extends BridgeError {
  override readonly code = 'reached_max_restart_intensity';
  constructor(
    readonly supervisor: string,
    readonly childId: string,
    /** How the child last exited, as `formatExitReason` reads it (`crash: boom`), or `failed to start`. */
    readonly childExit: string,
    readonly maxRestarts: number,
    readonly maxSeconds: number,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `supervisor '${supervisor}' reached its maximum restart intensity (${maxRestarts} restarts in ${maxSeconds} s) ` +
        `at child '${childId}' (${childExit}), and shut down`,
      { ...options, details: { supervisor, childId, childExit, maxRestarts, maxSeconds, ...options.details } },
    );
  }
}

/** An execution was cancelled (its AbortSignal fired) before it finished; a request in flight was aborted. */
export class ExecutionAbortedError extends BridgeError {
  override readonly code = 'execution_aborted';
  constructor(
    readonly moduleId: string,
    readonly executionId: string,
    options: BridgeErrorOptions = {},
  ) {
    // A reason given (a cancel's, `timed out`) ends the message, as the module process words it.
    const reason = options.details?.reason;
    const why = typeof reason === 'string' && reason !== '' ? `: ${reason}` : '';
    super(`execution '${executionId}' of module '${moduleId}' was aborted${why}`, {
      ...options,
      details: { moduleId, executionId, ...options.details },
    });
  }
}

/**
 * The node that took a remote execution stopped answering while its caller waited for the reply: its process was
 * killed, or its machine or network went away (or this client's own connection stopped carrying anything without
 * dropping, which looks the same from here: a connection that drops is told apart, see `NatsConnectionError`).
 * Raised by the remote client, like Elixir's `:noconnection`, a few seconds after the node's last answer instead
 * of at the end of the execution's timeout. The execution's outcome is unknown: it may or may not have run, its
 * LLM call included, so retry only what is safe to run twice.
 *
 * Any other request is watched the same way once its node said it is still at it (a write riding through a
 * leader election, see `Tether-Answer-Within`): then `moduleId` and `executionId` are `undefined`,
 * `details.subject` names the request, and `details.outcome` is `unknown`, unless it was a read (`details.read`).
 */
export class NodeLostError extends BridgeError {
  override readonly code = 'node_lost';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string | undefined,
    readonly executionId: string | undefined,
    /** The node's instance id of the `tether` micro service (it answered on `$SRV.PING.tether.<nodeId>`). */
    readonly nodeId: string,
    options: BridgeErrorOptions = {},
  ) {
    const subject = options.details?.subject;
    const request = typeof subject === 'string' ? `request '${subject}'` : 'a request';
    // Only a request known to be a read is said to have changed nothing.
    const fate = options.details?.read === true ? 'a read, it changed nothing' : 'whether it was applied is unknown';
    super(
      executionId === undefined
        ? `node '${nodeId}' that took ${request}${sessionId === '' ? '' : ` of session '${sessionId}'`} stopped ` +
            `answering; ${fate}`
        : `node '${nodeId}' running execution '${executionId}' of module '${moduleId}' in session '${sessionId}' ` +
            "stopped answering; the execution's outcome is unknown: it may or may not have run, its LLM call included",
      {
        ...options,
        details: {
          // '' for a request that names no session (`sessions.list`).
          ...(sessionId === '' ? {} : { sessionId }),
          ...(moduleId === undefined ? {} : { moduleId }),
          ...(executionId === undefined ? {} : { executionId }),
          nodeId,
          ...options.details,
        },
      },
    );
  }
}

/**
 * This client's NATS connection dropped while it waited for a remote execution's reply, and once it was back the
 * node that had taken the execution (`nodeId`) said it has no record of it: it keeps the replies of finished
 * executions for a while only (the last few thousand, for two minutes by default), so the reply sent while this
 * client was away is gone for good. Or no node ever acknowledged the execution and none of the live nodes has a
 * record of it (`nodeId` undefined, the nodes asked in `details.nodes`): its request was lost on its way (in a NATS
 * server's buffers as it restarted), or the node that took it died before it answered, or stalled (a frozen VM, a
 * long GC pause: once resumed, it refuses the execution rather than run it). Raised by the remote client
 * within seconds, rather than at the end of the execution's timeout. The execution's outcome is unknown: it may or
 * may not have run, its LLM call included, so retry only what is safe to run twice.
 */
export class ExecutionUnknownError extends BridgeError {
  override readonly code = 'execution_unknown';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string,
    readonly executionId: string,
    /** The node's instance id of the `tether` micro service, which took the execution; none when none did. */
    readonly nodeId: string | undefined,
    options: BridgeErrorOptions = {},
  ) {
    const what = `execution '${executionId}' of module '${moduleId}' in session '${sessionId}'`;
    super(
      (nodeId === undefined
        ? `no node acknowledged ${what}, and no live node has a record of it (its request was lost, or the node ` +
          'that took it died or stalled; one that stalled does not run it once resumed)'
        : `node '${nodeId}' has no record of ${what}, whose reply this client's NATS connection lost`) +
        "; the execution's outcome is unknown: it may or may not have run, its LLM call included",
      {
        ...options,
        details: { sessionId, moduleId, executionId, ...(nodeId === undefined ? {} : { nodeId }), ...options.details },
      },
    );
  }
}

/**
 * The node that took a request stopped before it answered: its stop let the requests in flight finish for a while
 * (`tether serve --drain-timeout`) and this one had not, so the node ended it (see `Runtime.endRequests`). An
 * execution was aborted there, its LLM call dropped (a call already made may still be billed); any other request
 * may or may not have been applied. Another node takes the request if it is sent again. `details.reason` says why
 * the node ended it.
 */
export class NodeStoppingError extends BridgeError {
  override readonly code = 'node_stopping';
  constructor(
    /** The node's instance id of the `tether` micro service. */
    readonly nodeId: string,
    /** The subject the request came on. */
    readonly subject: string,
    options: BridgeErrorOptions = {},
  ) {
    const reason = options.details?.reason;
    const why = typeof reason === 'string' && reason !== '' ? ` (${reason})` : '';
    super(
      `node '${nodeId}' stopped before answering request '${subject}'${why}; it ended the request: an execution ` +
        'was aborted, a write may or may not have been applied',
      { ...options, details: { nodeId, subject, ...options.details } },
    );
  }
}

/**
 * A reply or an event is larger than the NATS server's `max_payload`, so it cannot be sent as one message. The
 * operation itself ran (a read changed nothing; an execution's result is lost); `what` names what was too
 * large and the message says how to ask for less.
 */
export class PayloadTooLargeError extends BridgeError {
  override readonly code = 'payload_too_large';
  constructor(
    /** What could not be sent, e.g. `reply to var.list of session 's1'`. */
    readonly what: string,
    readonly size: number,
    readonly limit: number,
    /** How to ask for less, e.g. `ask for fewer sessions at a time with a smaller limit`. */
    hint?: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`${what} is ${size} bytes, over the NATS max_payload of ${limit} bytes${hint ? `; ${hint}` : ''}`, {
      ...options,
      details: { what, size, limit, ...options.details },
    });
  }
}

/** Something failed that is not the caller's fault (a store or provider error); the message names it. */
export class InternalError extends BridgeError {
  override readonly code = 'internal_error';
}

/**
 * What happened to a NATS connection: `unreachable` (it could not be made), `disconnected` (retrying; or, thrown by
 * a remote request, dropped while it waited, which got no reply), `reconnected`, `closed` (given up, or closed
 * while a request waited), or `refused` (the server's permissions for the connection's user refused a publish or a
 * subscription; `details.subject` names it).
 */
export type NatsConnectionStatus = 'unreachable' | 'disconnected' | 'reconnected' | 'closed' | 'refused';

/**
 * A node's or client's NATS connection could not be made, dropped, came back or closed: thrown by
 * `Runtime.start({ nats })` and `connect()` when no server answers, by a request whose connection closed under
 * it, and by a remote request (`execute` or any other) whose connection dropped while it waited and that got no
 * reply by its timeout (`disconnected`: a reply sent while it was down is lost, and so is a request sent then;
 * `details.outcome` is `unknown` for all but reads, which may or may not have been applied); told to `onError` otherwise; never sent on the wire. `reconnected` ends an outage rather than being a
 * failure, and comes the same way so one handler sees both.
 */
export class NatsConnectionError extends BridgeError {
  override readonly code = 'nats_connection';
  constructor(
    readonly status: NatsConnectionStatus,
    readonly server: string,
    /** What follows, e.g. `reconnecting every 2000 ms`. */
    note?: string,
    options: BridgeErrorOptions = {},
  ) {
    const what = {
      unreachable: 'cannot connect to NATS',
      disconnected: 'connection lost',
      reconnected: 'reconnected',
      closed: 'connection closed',
      refused: 'refused by NATS permissions',
    }[status];
    super(`${what} (${server})${note ? `; ${note}` : ''}`, {
      ...options,
      details: { status, server, ...options.details },
    });
  }
}

// The wire form lives apart (it names every class); re-exported so `errors.js` stays the one import.
export { errorFromJSON, errorToJSON } from './error-json.js';
