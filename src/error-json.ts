/**
 * Errors on the wire: the JSON form every error travels in (`{ code, message, details }`) and the rebuild of
 * each code into its class on the receiving side, so `instanceof` and `code` work across NATS and processes.
 * @module
 */
import {
  AlreadyExistsError,
  BridgeError,
  BucketConfigMismatchError,
  CallTimeoutError,
  ChildStartError,
  ExecutionAbortedError,
  ExecutionUnknownError,
  HELD_OUTPUT_DROP_REASONS,
  HeldOutputDroppedError,
  RemovalsBacklogError,
  InternalError,
  NatsConnectionError,
  NatsServerDefectError,
  BucketResetError,
  MaxChildrenError,
  MaxRestartIntensityError,
  MODEL_ANSWER_PROBLEMS,
  ModelAnswerError,
  ModuleNotFoundError,
  NoProcError,
  NodeLostError,
  NodeStoppingError,
  RuntimeStoppedError,
  PayloadTooLargeError,
  ProcessExitedError,
  ProviderError,
  ProviderUnavailableError,
  PROVIDER_UNAVAILABLE_REASONS,
  RevisionUnknownError,
  SessionError,
  StoreClosedError,
  StoreConflictError,
  STORE_LIMITS,
  StoreLimitError,
  StoreUnavailableError,
  ToolFailedError,
  UnknownModuleError,
  ValidationError,
  VariableLockedError,
  VariableNotFoundError,
  VersionConflictError,
  type NatsConnectionStatus,
  type SerializedError,
} from './errors.js';
import { messageOf, printable } from './printable.js';

/** Puts the sender's message on an error rebuilt on the receiving side. */
function withMessage<E extends BridgeError>(error: E, message: string): E {
  error.message = message;
  return error;
}

const CONNECTION_STATUSES = ['unreachable', 'disconnected', 'reconnected', 'closed', 'refused'] as const;

type ErrorFactory = (message: string, details: Record<string, unknown>) => BridgeError;

const str = (v: unknown): string => (typeof v === 'string' ? v : printable(v ?? ''));
const optStr = (v: unknown): string | undefined => (v === undefined ? undefined : str(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
/** `v` when it is one of `allowed`, else `fallback`: a sender of another version may name a kind this one lacks. */
const oneOf = <T extends string>(allowed: readonly T[], v: unknown, fallback: T): T =>
  (allowed as readonly unknown[]).includes(v) ? (v as T) : fallback;

/** How each code is rebuilt into its class on the receiving side of a reply. */
const factories = {
  validation_failed: (m, d) =>
    new ValidationError(m, { details: d, ...(typeof d.variable === 'string' ? { variable: d.variable } : {}) }),
  variable_not_found: (_m, d) => new VariableNotFoundError(str(d.sessionId), str(d.variable), { details: d }),
  session_not_found: (_m, d) => new SessionError('session_not_found', str(d.sessionId), { details: d }),
  session_expired: (_m, d) => new SessionError('session_expired', str(d.sessionId), { details: d }),
  session_stopped: (_m, d) => new SessionError('session_stopped', str(d.sessionId), { details: d }),
  already_exists: (_m, d) => new AlreadyExistsError(str(d.kind), str(d.id), { details: d }),
  version_conflict: (_m, d) =>
    new VersionConflictError(
      str(d.variable),
      typeof d.expectedVersion === 'number' ? d.expectedVersion : undefined,
      typeof d.actualVersion === 'number' ? d.actualVersion : undefined,
      { details: d },
    ),
  variable_locked: (_m, d) =>
    new VariableLockedError(
      str(d.variable),
      str(d.lockedBy),
      typeof d.requestedBy === 'string' ? d.requestedBy : undefined,
      { details: d },
    ),
  module_not_found: (_m, d) => new ModuleNotFoundError(str(d.sessionId), str(d.moduleId), { details: d }),
  unknown_module: (_m, d) =>
    new UnknownModuleError(str(d.moduleType), Array.isArray(d.available) ? d.available.map(str) : [], {
      details: d,
      ...(typeof d.variable === 'string' ? { variable: d.variable } : {}),
    }),
  call_timeout: (_m, d) => new CallTimeoutError(str(d.target), num(d.timeoutMs), { details: d }),
  noproc: (_m, d) => new NoProcError(str(d.target), { details: d }),
  revision_unknown: (_m, d) =>
    new RevisionUnknownError(str(d.bucket), num(d.minRevision), num(d.currentRevision), { details: d }),
  store_conflict: (_m, d) =>
    new StoreConflictError(str(d.key), num(d.expectedRevision), num(d.actualRevision), { details: d }),
  store_closed: (_m, d) => new StoreClosedError(str(d.operation), { details: d }),
  store_unavailable: (_m, d) =>
    new StoreUnavailableError(
      str(d.bucket),
      str(d.key),
      str(d.operation),
      num(d.waitedMs),
      d.outcome === 'not_applied' ? 'not_applied' : 'unknown',
      { details: d },
    ),
  store_limit_reached: (_m, d) =>
    new StoreLimitError(
      str(d.bucket),
      str(d.key),
      str(d.operation),
      oneOf(STORE_LIMITS, d.limit, 'resources'),
      undefined,
      {
        details: d,
      },
    ),
  bucket_config_mismatch: (_m, d) =>
    new BucketConfigMismatchError(str(d.bucket), str(d.setting), num(d.configured), num(d.actual), { details: d }),
  max_children: (_m, d) => new MaxChildrenError(str(d.supervisor), num(d.maxChildren), { details: d }),
  child_start_failed: (_m, d) => new ChildStartError(str(d.supervisor), str(d.childId), { details: d }),
  // Never on the wire (a runtime's onError hears it); rebuilt all the same.
  reached_max_restart_intensity: (_m, d) =>
    new MaxRestartIntensityError(
      str(d.supervisor),
      str(d.childId),
      str(d.childExit),
      num(d.maxRestarts),
      num(d.maxSeconds),
      { details: d },
    ),
  execution_aborted: (_m, d) => new ExecutionAbortedError(str(d.moduleId), str(d.executionId), { details: d }),
  node_lost: (_m, d) =>
    new NodeLostError(str(d.sessionId), optStr(d.moduleId), optStr(d.executionId), str(d.nodeId), { details: d }),
  node_stopping: (_m, d) => new NodeStoppingError(str(d.nodeId), str(d.subject), { details: d }),
  runtime_stopped: (_m, d) => new RuntimeStoppedError(str(d.operation), { details: d }),
  execution_unknown: (_m, d) =>
    new ExecutionUnknownError(
      str(d.sessionId),
      str(d.moduleId),
      str(d.executionId),
      typeof d.nodeId === 'string' ? d.nodeId : undefined,
      { details: d },
    ),
  internal_error: (m, d) => new InternalError(m, { details: d }),
  // A node's own connection (one that relayed an execution, see module-forward.ts).
  nats_connection: (_m, d) =>
    new NatsConnectionError(
      oneOf<NatsConnectionStatus>(CONNECTION_STATUSES, d.status, 'closed'),
      str(d.server),
      undefined,
      {
        details: d,
      },
    ),
  // Never on the wire; rebuilt all the same, as every code of errors.ts is (the defect is in the message).
  nats_server_defect: (_m, d) =>
    new NatsServerDefectError(
      str(d.serverVersion),
      Array.isArray(d.buckets) ? d.buckets.map(str) : [],
      str(d.fixedIn),
      '',
      {
        details: d,
      },
    ),
  // Never on the wire either (a node's onError hears it); rebuilt all the same.
  bucket_reset: (_m, d) =>
    new BucketResetError(str(d.bucket), num(d.appliedRevision), num(d.lastRevision), { details: d }),
  // Never on the wire either (a node's onError hears it); rebuilt all the same.
  held_output_dropped: (_m, d) =>
    new HeldOutputDroppedError(
      num(d.count),
      oneOf(HELD_OUTPUT_DROP_REASONS, d.reason, 'send_failed'),
      num(d.bytes),
      {},
      { details: d },
    ),
  removals_backlog: (_m, d) => new RemovalsBacklogError(str(d.bucket), num(d.limit), str(d.key), { details: d }),
  process_exited: (_m, d) => new ProcessExitedError(str(d.target), str(d.reason), { details: d }),
  provider_error: (_m, d) => new ProviderError(str(d.provider), num(d.status), str(d.providerMessage), { details: d }),
  provider_unavailable: (_m, d) =>
    new ProviderUnavailableError(
      str(d.provider),
      oneOf(PROVIDER_UNAVAILABLE_REASONS, d.reason, 'unreachable'),
      str(d.providerMessage),
      { details: d },
    ),
  tool_failed: (_m, d) => new ToolFailedError(str(d.tool), str(d.toolMessage), { details: d }),
  model_answer_invalid: (_m, d) =>
    new ModelAnswerError(str(d.provider), oneOf(MODEL_ANSWER_PROBLEMS, d.reason, 'invalid'), str(d.problem), {
      details: d,
    }),
  payload_too_large: (_m, d) =>
    new PayloadTooLargeError(str(d.what), num(d.size), num(d.limit), undefined, { details: d }),
} satisfies Record<string, ErrorFactory>;

/**
 * Every code a Tether error carries, in process and on the wire (docs/protocol.md lists each with its status). A
 * `switch` on an error's code can be exhaustive over it once {@link isErrorCode} said the code is one of them:
 * `BridgeError.code` is a `string`, since a node of a newer version may send a code this one does not know (it comes
 * as a plain `BridgeError` keeping that code).
 */
export type ErrorCode = keyof typeof factories | 'bridge_error';

/** Every code of {@link ErrorCode}, `bridge_error` (the base class's) last. */
export const ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  ...(Object.keys(factories) as ErrorCode[]),
  'bridge_error',
]);

/**
 * Whether `code` is one of {@link ERROR_CODES}: narrows an error's `code` for an exhaustive `switch`.
 * @example
 * if (error instanceof BridgeError && isErrorCode(error.code)) switch (error.code) { case 'validation_failed': ... }
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

/**
 * Rebuilds a typed error from its wire form, so `instanceof` and `code` work on the receiving side.
 * Unknown codes become a plain {@link BridgeError} that keeps the code and message. Takes any value, as `JSON.parse`
 * gives it (a `{ code, message, details }`, a {@link SerializedError}, is what it rebuilds), since it checks the shape
 * itself: a malformed `message` or `details` is passed over.
 * @throws {InternalError} when `serialized` is not an object with a string `code`: there is nothing to rebuild
 */
export function errorFromJSON(serialized: unknown): BridgeError {
  // The sender may be any machine or any language; nothing about the shape can be taken for granted.
  const { code, message, details } = (typeof serialized === 'object' && serialized !== null ? serialized : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  if (typeof code !== 'string') {
    throw new InternalError(`not a serialized error (no string code): ${describe(serialized)}`, {
      details: { got: describe(serialized) },
    });
  }
  const text = typeof message === 'string' ? message : code;
  const fields = typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {};
  // Own properties only: a code such as 'constructor' or 'toString' names no factory, only Object's prototype.
  const factory = Object.hasOwn(factories, code) ? factories[code as keyof typeof factories] : undefined;
  // The class comes from the code; the message is the sender's, which may say more than details can rebuild.
  if (factory) return withMessage(factory(text, fields), text);
  const error = new BridgeError(text, { details: fields });
  Object.defineProperty(error, 'code', { value: code });
  return error;
}

/** A short account of a value that is not what it should be, for a message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Error) return `${value.name} without a code`;
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object without a string code';
  return typeof value;
}

/** The wire form of any thrown value; non-Tether errors become `internal_error`. */
export function errorToJSON(error: unknown): SerializedError {
  if (error instanceof BridgeError) return error.toJSON();
  const message = messageOf(error);
  return { code: 'internal_error', message, details: {} };
}
