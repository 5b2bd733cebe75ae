/**
 * State-machine inspection over NATS: a node started with `inspect: true` publishes every snapshot of its session
 * and module processes, so a tool on any machine can watch the machines live (`nats sub 'tether.v1.inspect.>'`).
 * One JSON message per snapshot, on `<prefix>.v1.inspect.<sid>.session` or `<prefix>.v1.inspect.<sid>.module.<mid>`:
 * the machine, the node, the event that led to it, and the snapshot's state value, status and context (maps as
 * plain objects; as plain JSON, a float variable's NaN or Infinity shows as null). Off by default: each transition
 * then costs a walk over the process's context to measure it (each value measured once, see json-size.ts), and
 * the encoding of what is published.
 * Core NATS, through an event outbox of its own, so at most once (those of an outage of the node's connection are
 * lost: a live view, not held with its replies) and in the order each process made them.
 *
 * A snapshot over the server's `max_payload` (a session holding several large values, an event carrying one) is
 * not dropped: it goes out with `truncated: true`, each field of its context and event whose JSON is over
 * {@link INSPECTED_FIELD_LIMIT} bytes replaced by `{ omitted: true, bytes }` (a large object one level down, such
 * as a session's variables, keeps its small entries). The state value, status and every small field stay, so a
 * watcher still sees each transition. A snapshot still too large after that (a session of thousands of small
 * variables) goes out with its whole context as one `{ omitted: true, bytes }` and its event as its type alone.
 *
 * Only Tether's own processes are published, known by the logic object they were spawned from
 * ({@link inspectAs}): a user's process whose machine happens to be called `session` is none of them.
 * @module
 */
import type { InspectionEvent, Observer } from 'xstate';
import { errorToJSON, type SerializedError } from '../errors.js';
import { stampOf } from '../session/apply-store-change.js';
import type { EventOutbox } from './event-outbox.js';
import { jsonBytes } from './json-size.js';
import { cutText, messageOf } from '../printable.js';
import type { TetherSubjects } from './subjects.js';
import { setByName } from '../variables/names.js';

/** One inspected snapshot as it travels. */
export interface InspectedSnapshot {
  readonly type: 'snapshot';
  /** The machine: `session` or `module`. */
  readonly machine: 'session' | 'module';
  /** The node whose process it is: its connection name, or `tether-node@<host>:<pid>` for an unnamed node. */
  readonly node: string;
  /**
   * The node's instance id of the `tether` micro service: what `$SRV.PING.tether.<id>` answers, `Tether-Accepted-By`
   * says, `node_lost` names and `tether serve` prints. Absent while the node starts, before it serves.
   */
  readonly nodeId?: string;
  readonly sessionId: string;
  readonly moduleId?: string;
  /** The event the process had just processed (its `type`, and its payload). */
  readonly event: unknown;
  /** The state value, e.g. `{ active: 'idle' }` or `'executing'`. */
  readonly value: unknown;
  readonly status: string;
  readonly context: unknown;
  /**
   * Present (`true`) when fields of `context` and `event` were replaced: large ones to fit the server's max_payload,
   * or ones JSON cannot carry (see {@link OmittedField}).
   */
  readonly truncated?: true;
  /** The error a crash left, on the snapshot of it (`status: 'error'`, `event: { type: 'xstate.error' }`). */
  readonly error?: SerializedError;
}

/**
 * What replaces a field too large to inspect (how large its JSON was), or one JSON cannot carry at all (why not: a
 * BigInt, a cycle, a `toJSON` that throws, in a write a caller made before the session refused it).
 */
export type OmittedField =
  { readonly omitted: true; readonly bytes: number } | { readonly omitted: true; readonly unencodable: string };

/** Largest JSON of one context or event field kept in a snapshot that had to be truncated. */
export const INSPECTED_FIELD_LIMIT = 4096;

/** The logic of Tether's session and module processes, by the machine each is published as. */
const inspected = new WeakMap<object, 'session' | 'module'>();

/**
 * Marks `logic` as that of Tether's session or module processes, so that a node started with `inspect` publishes
 * the snapshots of the processes spawned from it. By identity: a machine's id is the user's to choose.
 */
export function inspectAs(logic: object, machine: 'session' | 'module'): void {
  inspected.set(logic, machine);
}

/** The bytes of `value`'s JSON, or, when JSON cannot carry it, the field that stands for it. */
function measured(value: unknown): number | OmittedField {
  try {
    return jsonBytes(value);
  } catch (error) {
    return { omitted: true, unencodable: messageOf(error) };
  }
}

/**
 * `value` with each field whose JSON exceeds the limit, or that JSON cannot carry, replaced by an
 * {@link OmittedField}. Such an object field one level down (a session's `variables`, a write event's `request`) is
 * shrunk the same way rather than omitted whole, so the watcher still sees every variable but the large ones.
 */
function withoutLargeFields(value: unknown, levels = 2): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const bytes = measured(field);
    // By name: a variable called `__proto__` is a field, not the copy's prototype.
    if (typeof bytes === 'number' && bytes <= INSPECTED_FIELD_LIMIT) setByName(out, key, field);
    else if (levels > 1 && typeof field === 'object' && field !== null && !Array.isArray(field))
      setByName(out, key, withoutLargeFields(field, levels - 1));
    else setByName(out, key, typeof bytes === 'number' ? ({ omitted: true, bytes } satisfies OmittedField) : bytes);
  }
  return out;
}

/** {@link measured} for the outbox: a snapshot JSON cannot carry is sent as its substitute, as one too large is. */
function snapshotBytes(message: object): number {
  const bytes = measured(message);
  return typeof bytes === 'number' ? bytes : Number.POSITIVE_INFINITY;
}

/**
 * `message` cut to fit `limit` bytes: its large fields omitted, or, when its many small ones are still too many (a
 * session of thousands of variables), its whole context and its event but for the event's type. A crash's error keeps
 * its code and the start of its message.
 */
function fittedToLimit(message: InspectedSnapshot, limit: number): InspectedSnapshot {
  const error: SerializedError | undefined = message.error && {
    code: message.error.code,
    message: cutText(message.error.message, INSPECTED_FIELD_LIMIT),
    details: withoutLargeFields(message.error.details ?? {}) as Record<string, unknown>,
  };
  const shrunk: InspectedSnapshot = {
    ...message,
    truncated: true,
    event: withoutLargeFields(message.event),
    context: withoutLargeFields(message.context),
    ...(error ? { error } : {}),
  };
  if (snapshotBytes(shrunk) <= limit) return shrunk;
  const type = (message.event as { type?: unknown } | null)?.type;
  return {
    ...shrunk,
    event: { type: typeof type === 'string' ? type.slice(0, INSPECTED_FIELD_LIMIT) : undefined },
    context: omittedWhole(message.context),
    ...(error ? { error: { code: error.code, message: error.message, details: {} } } : {}),
  };
}

/** The field standing for the whole of `value`. */
function omittedWhole(value: unknown): OmittedField {
  const bytes = measured(value);
  return typeof bytes === 'number' ? { omitted: true, bytes } : bytes;
}

/**
 * The plain copies of a session's maps, by its variables map, with the stamp the view had when they were taken: a
 * write makes several snapshots (each microstep's and the macrostep's), most of which change nothing in the maps,
 * and a copy of 5,000 variables costs milliseconds.
 */
const plainCopies = new WeakMap<object, { readonly stamp: number; readonly maps: Readonly<Record<string, object>> }>();

/** The context with its maps (a session's variables and revisions) as plain objects, which JSON can carry. */
function plainContext(context: object): Record<string, unknown> {
  const { variables } = context as { variables?: unknown };
  const stamp = variables instanceof Map ? stampOf(variables) : undefined;
  const cached = variables instanceof Map ? plainCopies.get(variables) : undefined;
  const maps: Record<string, object> = cached !== undefined && cached.stamp === stamp ? { ...cached.maps } : {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (!(value instanceof Map)) out[key] = value;
    else out[key] = maps[key] ??= Object.freeze(Object.fromEntries(value));
  }
  if (variables instanceof Map && stamp !== undefined && cached?.stamp !== stamp) {
    plainCopies.set(variables, { stamp, maps });
  }
  return out;
}

/**
 * `inspect` (a user's inspector), given each session snapshot (of a macrostep, `@xstate.snapshot`, and of each
 * microstep, `@xstate.microstep`) with its context's maps as plain objects taken then: a session process keeps its
 * variables in maps it updates in place, so the snapshot an inspector kept would change afterwards, and one it
 * serialized would show `variables: {}`. Every other event passes as it is.
 */
export function withPlainSessionSnapshots(
  inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void),
): (event: InspectionEvent) => unknown {
  const next = typeof inspect === 'function' ? inspect : (event: InspectionEvent) => inspect.next?.(event);
  // What the inspector returns goes back: an async one's rejection is reported as its throw is.
  return (event): unknown => {
    if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return next(event);
    const { actorRef, snapshot } = event as unknown as Inspected;
    const context = snapshot.context;
    if (!actorRef.logic || inspected.get(actorRef.logic) !== 'session' || typeof context !== 'object' || !context)
      return next(event);
    const plain = { ...snapshot, context: Object.freeze(plainContext(context)) };
    return next({ ...event, snapshot: plain } as unknown as InspectionEvent);
  };
}

/** What an inspection event's actor and snapshot look like at run time (XState types them narrowly). */
interface Inspected {
  readonly actorRef: { readonly logic?: object };
  readonly snapshot: {
    readonly value?: unknown;
    readonly status?: string;
    readonly context?: unknown;
    readonly error?: unknown;
  };
  readonly event: unknown;
}

/**
 * An XState inspector publishing the snapshots of the session and module machines through `outbox`; the
 * snapshots of any other actor (a module's runner, a supervisor, any process of the user's) are not published.
 */
export function natsInspector(
  outbox: EventOutbox,
  subjects: TetherSubjects,
  node: string,
  nodeId: () => string | undefined,
): (event: InspectionEvent) => void {
  return (event) => {
    if (event.type !== '@xstate.snapshot') return;
    const { actorRef, snapshot, event: cause } = event as unknown as Inspected;
    const machine = actorRef.logic && inspected.get(actorRef.logic);
    if (machine === undefined) return;
    const context = snapshot.context as { sessionId?: unknown; moduleId?: unknown } | undefined;
    if (typeof context?.sessionId !== 'string') return;
    const sessionId = context.sessionId;
    const moduleId = machine === 'module' && typeof context.moduleId === 'string' ? context.moduleId : undefined;
    if (machine === 'module' && moduleId === undefined) return;
    const subject =
      moduleId === undefined ? subjects.inspectSession(sessionId) : subjects.inspectModule(sessionId, moduleId);
    const id = nodeId();
    const message: InspectedSnapshot = {
      type: 'snapshot',
      machine,
      node,
      ...(id === undefined ? {} : { nodeId: id }),
      sessionId,
      ...(moduleId === undefined ? {} : { moduleId }),
      event: cause,
      value: snapshot.value,
      status: snapshot.status ?? 'active',
      context: plainContext(context),
      ...(snapshot.status === 'error' ? { error: errorToJSON(snapshot.error) } : {}),
    };
    // Measured first (see json-size.ts): a session holding large values is never encoded whole per transition.
    outbox.publish(subject, message, (_size, limit) => fittedToLimit(message, limit), snapshotBytes);
  };
}
