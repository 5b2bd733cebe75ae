/**
 * Module events on NATS: `<prefix>.v1.events.<sid>.module.<mid>`, one JSON message per state change, result,
 * failure, sync and streamed delta of a module process, published by the node whose process it is.
 *
 * Several nodes may run a process for one module at once (requests are spread by the queue group), so one
 * subject can carry the events of several processes: each node's events come in the order its process emitted
 * them, but the streams of two nodes interleave. Every event names its `executionId` (state changes aside), so a
 * subscriber can follow one execution. Core NATS, so at most once: a subscriber that is late misses them.
 * @module
 */
import type { ExecutionResult, ModuleDescription, ModuleEmittedEvent } from '../../machines/module.machine.js';
import type { ReplyEvent } from '../../machines/protocol.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import { PayloadTooLargeError, type SerializedError } from '../errors.js';
import { fittedError } from './error-fit.js';
import type { EventOutbox, OversizeEvent } from './event-outbox.js';
import type { TetherSubjects } from './subjects.js';
import { jsonBytes } from './json-size.js';
import { withOutputDates } from './output-dates.js';
import { encodeJson } from './wire.js';

/** A module process's state changed: `idle`, or `syncing` or `executing` the execution `executionId`. */
export interface ModuleStateEvent {
  readonly type: 'module.state';
  readonly moduleId: string;
  readonly state: ModuleDescription['state'];
  /** The execution the process is syncing or executing; absent when it is idle. */
  readonly executionId?: string;
}

/**
 * One module event as it travels: the process's own event (or a state change) with the session and module, and
 * the life of the session (its record's `incarnation`, as its variable events and end event name it): a session
 * deleted or expired and opened again is another life, whose module of the same id is another module. Absent when
 * the node did not know it.
 */
export type ModuleEvent = (Exclude<ModuleEmittedEvent, ReplyEvent> | ModuleStateEvent) & {
  readonly sessionId: string;
  readonly moduleId: string;
  readonly incarnation?: string;
  /** The node whose process it is (its service's instance id, as `$SRV.PING` and `node_lost` name it). */
  readonly nodeId?: string;
};

/** Every `type` a {@link ModuleEvent} can have. */
export const MODULE_EVENT_TYPES = [
  'module.state',
  'module.result',
  'module.failed',
  'module.delta',
  'module.synced',
  'module.syncFailed',
] as const;

/**
 * What subscribers hear of a result too large for one NATS message: the execution's failure, with the error its
 * remote caller gets too (the execute reply is as large), so a follower of the module is not left waiting. The
 * session, the module and the life are named as every published event's are (see {@link publishModuleEvents}).
 */
function resultTooLarge(result: ExecutionResult, size: number, limit: number): object {
  const { executionId, moduleId } = result;
  const error = new PayloadTooLargeError(
    `result of execution '${executionId}' of module '${moduleId}'`,
    size,
    limit,
    'the execution ran, but its output is too large to be published over NATS',
  );
  return { type: 'module.failed', executionId, error: error.toJSON() };
}

type SyncedEvent = Extract<ModuleEmittedEvent, { type: 'module.synced' }>;
type DeltaEvent = Extract<ModuleEmittedEvent, { type: 'module.delta' }>;

/** Room left in a message for what is not the large part of an event (its other fields, the JSON around them). */
const EVENT_ROOM = 4096;

/**
 * What subscribers hear of a sync whose changes are too large for one message (two bound strings near the record
 * limit are enough): the same event without the largest `[old, new]` pairs, which `outcome.changesOmitted` names.
 */
function syncWithin(event: SyncedEvent, size: number, limit: number): SyncedEvent {
  const bySize = Object.entries(event.outcome.changes)
    .map(([attribute, pair]) => ({ attribute, bytes: jsonBytes(pair) + attribute.length }))
    .sort((a, b) => b.bytes - a.bytes);
  const omitted: string[] = [];
  let left = size;
  for (const { attribute, bytes } of bySize) {
    if (left <= limit - EVENT_ROOM) break;
    omitted.push(attribute);
    left -= bytes;
  }
  const changes = Object.fromEntries(
    Object.entries(event.outcome.changes).filter(([attribute]) => !omitted.includes(attribute)),
  );
  return { ...event, outcome: { ...event.outcome, changes, changesOmitted: omitted } };
}

/**
 * A delta cut into pieces that each fit in a message of `limit` bytes, however its characters are escaped (six
 * bytes at most per UTF-16 unit), never inside a surrogate pair: a field's deltas add up to its value, so several
 * smaller ones say what one would. Only the first starts the field over, if the delta did.
 */
function deltaPieces(event: DeltaEvent, limit: number): DeltaEvent[] {
  const units = Math.max(2, Math.floor((limit - EVENT_ROOM - event.field.length * 6) / 6));
  if (event.delta.length <= units) return [event];
  const { restart: _restart, ...rest } = event;
  const pieces: DeltaEvent[] = [];
  for (let at = 0; at < event.delta.length;) {
    let end = Math.min(at + units, event.delta.length);
    const last = event.delta.charCodeAt(end - 1);
    if (end < event.delta.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    const delta = event.delta.slice(at, end);
    pieces.push(at === 0 ? { ...event, delta } : { ...rest, delta });
    at = end;
  }
  return pieces;
}

/**
 * A failure event too large for one message (a cancel's long reason, a tool's long message, repeated in the error's
 * message and details) with its error cut as an error reply is (`details.cut: true`), which fits in any message:
 * whoever follows an execution by its id still hears that it ended.
 */
function withErrorCut<E extends { readonly error: SerializedError }>(event: E): E {
  return { ...event, error: fittedError(event.error) };
}

/**
 * Publishes every event of the module behind `handle` on its events subject, through the node's `outbox` (so
 * they leave after the execution's reply), until the returned function is called: when the module stops for good
 * (its listeners follow it from process to process across hibernation). When its process exits (crashed, killed
 * or stopped), each execution it held, running or queued, is published as `module.failed` with the
 * `process_exited` error its caller got, before the node calls the returned function, which then publishes the
 * `idle` state that process could no longer tell. The process is never
 * disturbed by a publish that fails. Each event names `incarnation`, the life of the module's session, when given
 * (a module ends with its session's life, so one life serves all its events), and `nodeId`, the node publishing it.
 */
export function publishModuleEvents(
  outbox: EventOutbox,
  subjects: TetherSubjects,
  handle: ModuleHandle,
  incarnation?: string,
  nodeId?: string,
): () => void {
  const { sessionId, moduleId } = handle;
  const subject = subjects.moduleEvent(sessionId, moduleId);
  // The node too: several nodes may run the module, and an alert on a failure must say which one failed.
  const origin = { ...(incarnation === undefined ? {} : { incarnation }), ...(nodeId === undefined ? {} : { nodeId }) };
  // Every event names the session, the module and the life, also what stands for one too large: a subscriber bound
  // to one life takes an event naming none as an older node's, and would take another life's.
  const named = (event: object): object => ({ ...event, sessionId, moduleId, ...origin });
  const publish = (event: object, oversize?: OversizeEvent): void =>
    outbox.publish(
      subject,
      named(event),
      oversize &&
        ((size, limit) => {
          const substitute = oversize(size, limit);
          return substitute === undefined ? undefined : named(substitute);
        }),
    );
  // `idle` goes out once per execution, the same bytes every time: encoded once. A busy state names its execution.
  let idle: Uint8Array | undefined;
  const publishIdle = (): void => {
    idle ??= encodeJson({ type: 'module.state', state: 'idle', sessionId, moduleId, ...origin } satisfies ModuleEvent);
    outbox.publishEncoded(subject, idle);
  };
  let initial = true;
  let busy = false;
  const stops = [
    handle.onState((state, executionId) => {
      busy = executionId !== undefined;
      // The first call is the state the process is in now, not a change: subscribers only hear changes.
      if (initial) return;
      if (executionId === undefined) return publishIdle();
      publish({ type: 'module.state', state, executionId });
    }),
    handle.on('module.result', (event) =>
      publish({ ...event, result: withOutputDates(event.result) }, (size, limit) =>
        resultTooLarge(event.result, size, limit),
      ),
    ),
    handle.on('module.failed', (event) => publish(event, () => withErrorCut(event))),
    handle.on('module.delta', (event) => {
      for (const piece of deltaPieces(event, outbox.limit())) publish(piece);
    }),
    handle.on('module.synced', (event) => publish(event, (size, limit) => syncWithin(event, size, limit))),
    handle.on('module.syncFailed', (event) => publish(event, () => withErrorCut(event))),
  ];
  initial = false;
  return () => {
    // A process that ended while it held an execution (crashed, stopped with its session) told its `module.failed`
    // events and nothing more: a stopped actor emits no state. Its subscribers (and remote `onState` listeners, which
    // follow this feed) would be left at `executing`; the module is idle here now, whether it lives on or not.
    if (busy) publishIdle();
    stops.forEach((stop) => stop());
  };
}
