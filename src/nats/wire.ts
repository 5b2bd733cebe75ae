/**
 * The wire format of the NATS service, both directions. Requests are UTF-8 JSON objects; every success reply is
 * `{ result, revision }` where `revision` is the store revision a client sends back for read-your-writes, at least
 * that of the request's write and of every write the answer shows (not the point it was read at: the node's own writes
 * may be ahead of what it applied of others'); a module request's reply adds `modulesRevision`, the same for the
 * modules bucket; every error reply carries the micro error headers
 * (`Nats-Service-Error`, `Nats-Service-Error-Code`) and the body `{ error: { code, message, details } }` (with the
 * same revisions), the same `SerializedError` the embedded runtime uses, so `errorFromJSON` rebuilds the typed class.
 *
 * Everything that arrives is hostile until checked: a payload that is too big, not JSON, not an object, or has a
 * field of the wrong type becomes a `ValidationError` before any session is touched.
 * @module
 */
import {
  InternalError,
  ValidationError,
  errorFromJSON,
  errorToJSON,
  type BridgeError,
  type SerializedError,
} from '../errors.js';
import { fittedError } from './error-fit.js';
import { reviveOutputDates } from './output-dates.js';
import { decodeValue, encodeValue } from '../variables/codec.js';
import { deepFreeze, freezeParsedJson } from '../variables/json-value.js';
import { MAX_SHAPE_JSON_DEPTH } from '../variables/json-shape.js';
import type { JsonValue, VariableRecord, VariableType } from '../variables/types.js';
import { asciiEscaped, messageOf } from '../printable.js';

// Reading a request's fields lives apart; re-exported so code that reads them from `wire.js` keeps working.
export * from './request-fields.js';

/** The request header carrying the highest store revision the client has seen (read-your-writes). */
export const MIN_REVISION_HEADER = 'Tether-Min-Revision';

/**
 * The request header binding a variable, session or module request to one life of its session: the `incarnation` that
 * `open` replied with. A node answers `session_not_found` (deleted) or `session_expired` when the session's current
 * life is another one, so a handle of a deleted session never reaches the id's next life. Absent: the current life,
 * whichever it is (clients that never sent it, the CLI).
 */
export const INCARNATION_HEADER = 'Tether-Incarnation';

/**
 * The request header carrying the highest modules-bucket revision the client has seen (a reply's
 * `modulesRevision`): a module request waits until the node's watch of the modules bucket has applied it, so a
 * module the client saw stopped, or created again with another spec, is not served from the old spec. Absent: no
 * wait. Only the module endpoints read it.
 */
export const MIN_MODULES_REVISION_HEADER = 'Tether-Min-Modules-Revision';

/**
 * The request header asking for an acceptance notice (any value; the remote client sends `1`). The node that
 * takes the request publishes to the request's reply subject a notice with the {@link ACCEPTED_BY_HEADER} header,
 * then the reply as usual, so the caller can watch that node while it waits:
 * - a module `execute` gets its notice at the end of the event-loop turn that took it, before the execution waits
 *   for anything. An execution whose reply is ready within that turn (the offline model) gets the reply alone:
 *   there was nothing to watch.
 * - any other request gets one only when it is still unanswered after {@link LATE_NOTICE_MS} (a write riding
 *   through a leader election of its bucket, say), with {@link ANSWER_WITHIN_HEADER}: the caller may wait that
 *   long rather than give up at its usual timeout.
 * Without the header the protocol stays one request, one reply.
 */
export const ACCEPT_NOTICE_HEADER = 'Tether-Accept-Notice';

/**
 * The header that makes a message an acceptance notice rather than a reply: the micro service instance id of the
 * node that took the request, which answers `$SRV.PING.tether.<id>` while it lives. The body says it again:
 * `{ "acceptedBy": "<id>" }`.
 */
export const ACCEPTED_BY_HEADER = 'Tether-Accepted-By';

/**
 * How long a request other than `execute` that asked for a notice may go unanswered before the node sends one:
 * far above any answer that needs no wait (well under a millisecond on loopback), far below a client's timeout.
 */
export const LATE_NOTICE_MS = 1000;

/**
 * The header of a late notice (see {@link ACCEPT_NOTICE_HEADER}): the milliseconds within which the node expects
 * to answer, from the notice on (its longest wait for one store operation: a write's call timeout, which covers its
 * ride through an election, and a few seconds). A request that runs several in a row through an outage can take
 * longer.
 */
export const ANSWER_WITHIN_HEADER = 'Tether-Answer-Within';

/** The micro service every node registers (`$SRV.PING.tether`, `nats micro ls`). */
export const SERVICE_NAME = 'tether';

/**
 * What a node's id (its instance of the micro service) looks like: a NUID. Anything else, in a notice, a ping answer
 * or a module's claim, names no node and is never used as a subject token.
 */
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The micro protocol's error description header: `<code>: <message>` on one line. */
export const ERROR_HEADER = 'Nats-Service-Error';
/** The micro protocol's error status header: an HTTP-like number ({@link statusOf}). */
export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';

/** Largest request body accepted by default: 1 MiB (the server's default `max_payload`). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** A request body: the JSON object sent. */
export type RequestBody = Readonly<Record<string, unknown>>;

/** A variable record as it travels: the value through the variable codec (non-finite floats as strings). */
export type WireRecord = Omit<VariableRecord, 'value'> & { readonly value: JsonValue };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses a request body; an empty body is `{}`. Throws `ValidationError` for anything that is not a JSON object. */
export function decodeRequest(data: Uint8Array, maxBytes: number): RequestBody {
  if (data.length > maxBytes) {
    throw new ValidationError(`payload of ${data.length} bytes exceeds the limit of ${maxBytes} bytes`, {
      details: { constraint: 'maxPayload', size: data.length, limit: maxBytes },
    });
  }
  if (data.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (error) {
    // SyntaxError for bad JSON, TypeError for bad UTF-8, RangeError for absurd nesting: all the sender's fault.
    throw new ValidationError(`payload is not valid UTF-8 JSON: ${messageOf(error)}`, {
      details: { constraint: 'json' },
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('payload must be a JSON object', { details: { constraint: 'json' } });
  }
  return parsed as RequestBody;
}

/** The body of an acceptance notice (see {@link ACCEPTED_BY_HEADER}). */
export function encodeAcceptance(nodeId: string): Uint8Array {
  return encoder.encode(JSON.stringify({ acceptedBy: nodeId }));
}

/** The JSON bytes of a success reply; `modulesRevision` only for a module request. */
export function encodeReply(result: unknown, revision: number, modulesRevision?: number): Uint8Array {
  // JSON leaves an undefined `modulesRevision` out.
  return encoder.encode(JSON.stringify({ result, revision, modulesRevision }));
}

/** The micro error status for an error code: 4xx for the caller's mistakes, 5xx for ours. */
export function statusOf(code: string): number {
  switch (code) {
    case 'validation_failed':
      return 400;
    case 'variable_not_found':
    case 'session_not_found':
    case 'unknown_module':
    case 'module_not_found':
      return 404;
    case 'already_exists':
    case 'version_conflict':
    case 'variable_locked':
    case 'store_conflict':
      return 409;
    case 'session_expired':
    case 'session_stopped':
      return 410;
    case 'revision_unknown':
      // The request's Tether-Min-Revision header is a precondition this bucket can never meet.
      return 412;
    case 'payload_too_large':
      return 413;
    case 'noproc':
    case 'store_unavailable':
    case 'node_stopping':
      return 503;
    case 'provider_unavailable':
    case 'model_answer_invalid':
      // The module's provider, upstream of the node, gave nothing usable: a bad gateway, not the node's fault.
      return 502;
    case 'call_timeout':
      return 504;
    case 'store_limit_reached':
      // The account's JetStream storage (or streams, or consumers) is used up: room or limits must change first.
      return 507;
    default:
      return 500;
  }
}

/** An error reply: status and one-line description for the headers, and the JSON body. */
export interface EncodedError {
  readonly status: number;
  readonly description: string;
  readonly body: Uint8Array;
}

/** The most characters of an error reply's `Nats-Service-Error` header. */
const MAX_DESCRIPTION = 512;

/**
 * The `Nats-Service-Error` header of an error reply: `<code>: <message>` on one line (a header value ends at a line
 * break), in printable ASCII (some clients drop every header of a message with a value in more than ASCII: nats.py
 * before 2.15), cut to {@link MAX_DESCRIPTION} characters, never inside an escape or between the two halves of a
 * surrogate pair. The body's message is the exact one.
 */
function errorDescription(code: string, message: string): string {
  const line = asciiEscaped(`${code}: ${message}`.replace(/[\r\n]+/g, ' '));
  if (line.length <= MAX_DESCRIPTION) return line;
  return line
    .slice(0, MAX_DESCRIPTION)
    .replace(/\\(u[0-9a-f]{0,3})?$/, '')
    .replace(/\\ud[89ab][0-9a-f]{2}$/, '');
}

/**
 * The error reply for any thrown value; non-Tether errors become `internal_error`. The body carries the node's
 * revisions too: a conflict or a refusal also tells the client how far the store (and, for a module request, the
 * modules bucket: a failed creation may have claimed and released its id) had got.
 */
export function encodeError(error: unknown, revision = 0, modulesRevision?: number): EncodedError {
  const serialized = fittedError(errorToJSON(error));
  return {
    status: statusOf(serialized.code),
    description: errorDescription(serialized.code, serialized.message),
    body: encoder.encode(JSON.stringify({ error: serialized, revision, modulesRevision })),
  };
}

/**
 * A reply as the client reads it: a result, or the typed error to throw; both with the node's revision, and its
 * modules-bucket revision when the reply has one.
 */
export type DecodedReply = (
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: BridgeError }
) & { readonly revision: number; readonly modulesRevision?: number };

/**
 * Reads a reply body. `errorHeader` and `errorCode` are the micro error headers, used when an error reply has
 * no JSON body (a handler that threw inside nats.js answers with headers only).
 */
export function decodeReply(data: Uint8Array, errorHeader?: string, errorCode?: string): DecodedReply {
  let parsed: unknown;
  try {
    parsed = data.length === 0 ? undefined : JSON.parse(decoder.decode(data));
  } catch {
    parsed = undefined;
  }
  const body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const revisions = {
    revision: typeof body?.revision === 'number' ? body.revision : 0,
    ...(typeof body?.modulesRevision === 'number' ? { modulesRevision: body.modulesRevision } : {}),
  };
  const error = body?.error;
  if (typeof error === 'object' && error !== null && typeof (error as SerializedError).code === 'string') {
    const { code, message, details } = error as SerializedError;
    const rebuilt = errorFromJSON({
      code,
      message: String(message ?? code),
      details: typeof details === 'object' && details !== null ? details : {},
    });
    return { ok: false, error: rebuilt, ...revisions };
  }
  if (errorHeader !== undefined || errorCode !== undefined) {
    return {
      ok: false,
      error: new InternalError(`service error ${errorCode ?? ''}: ${errorHeader ?? ''}`.trim()),
      ...revisions,
    };
  }
  if (!body || !('revision' in body))
    return { ok: false, error: new InternalError('malformed reply from a tether node'), ...revisions };
  return { ok: true, result: body.result, ...revisions };
}

/**
 * How deep a record read off the wire may nest: as deep as its constraints may, a `json` shape two containers down
 * (record, constraints). A node stores whatever shape a definition accepts, and a value or a record's part nests no
 * deeper; with the default (512) a remote client failed to read a record whose shape nests 255 levels of `properties`.
 */
const WIRE_RECORD_DEPTH = 2 + MAX_SHAPE_JSON_DEPTH;

/** A record for the wire: its value through the variable codec. */
export function encodeRecord(record: VariableRecord): WireRecord {
  return { ...record, value: encodeValue(record.type, record.value) };
}

/**
 * A record parsed from JSON (a reply, or the KV bucket), its value decoded and the record deep-frozen like the
 * embedded one, so whoever is handed the record cannot change what a node holds (and would write back) through it.
 *
 * Frozen in place: `wire` is what `JSON.parse` has just returned, so nobody else holds it, and it can only be JSON.
 * A copy that checks every part (`freezeJson`) cost each routed update about 8 µs of the 1 µs its parse takes.
 */
export function decodeRecord(wire: unknown): VariableRecord {
  const record = wire as { type: VariableRecord['type']; value: unknown };
  const value = decodeValue(record.type, record.value);
  if (value !== record.value) record.value = value;
  return freezeParsedJson(record, notJson, WIRE_RECORD_DEPTH) as unknown as VariableRecord;
}

/**
 * A value parsed from JSON on its own (a `get`, a history entry, a change event, an export), decoded and deep-frozen
 * in place as {@link decodeRecord} freezes a record's: an embedded session hands out its stored values frozen, and a
 * value read remotely must not be the one a caller can change where an embedded one throws. `type` is `null` when the
 * node sent none (the value is then taken as it came). Each value is decoded once, as it arrives, by its reader.
 */
export function decodeWireValue(type: VariableType | null, wire: unknown): unknown {
  return freezeParsedJson(type === null ? wire : decodeValue(type, wire), notJson, WIRE_RECORD_DEPTH);
}

/**
 * An execution's result parsed from JSON (a reply, or a `module.result` event) as an embedded handle hands it out:
 * the `Date`s of its output turned back into `Date`s (see output-dates.ts), and frozen, the result, its `provenance`
 * and `usage`, and its output and `syncFailed` error throughout.
 */
export function decodeExecutionResult<T>(result: T): T {
  reviveOutputDates(result);
  const { output, provenance, usage, syncFailed } = (result ?? {}) as {
    readonly output?: unknown;
    readonly provenance?: unknown;
    readonly usage?: unknown;
    readonly syncFailed?: unknown;
  };
  deepFreeze(output);
  deepFreeze(syncFailed);
  Object.freeze(provenance);
  Object.freeze(usage);
  return Object.freeze(result);
}

/**
 * A module event parsed from JSON, frozen where an embedded handle's listener gets it frozen: the event, a result
 * throughout (see {@link decodeExecutionResult}), a sync's outcome throughout (its changes, each `[old, new]` pair,
 * the values: the bound variables' own embedded), a failure's error throughout.
 */
export function decodeModuleEvent<T extends { readonly type: string }>(event: T): T {
  const { result, outcome, error } = event as { result?: unknown; outcome?: { changes?: unknown }; error?: unknown };
  deepFreeze(error);
  if (event.type === 'module.result') decodeExecutionResult(result);
  else if (event.type === 'module.synced' && typeof outcome?.changes === 'object' && outcome.changes !== null) {
    for (const pair of Object.values(outcome.changes))
      if (Array.isArray(pair)) for (const value of pair) decodeWireValue(null, value);
    deepFreeze(outcome);
  }
  return Object.freeze(event);
}

/** Reached only for a record no node produces: what JSON.parse makes is JSON, unless nested absurdly deep. */
function notJson(problem: string): never {
  throw new InternalError(`malformed variable record: ${problem}`);
}

/** JSON bytes of any request body. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
