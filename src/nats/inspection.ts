/**
 * State-machine inspection over NATS: a node started with `inspect: true` publishes every snapshot of its session
 * and module processes, so a tool on any machine can watch the machines live (`nats sub 'tether.v1.inspect.>'`).
 * One JSON message per snapshot, on `<prefix>.v1.inspect.<sid>.session` or `<prefix>.v1.inspect.<sid>.module.<mid>`:
 * the machine, the node, the event that led to it, and the snapshot's state value, status and context (maps as
 * plain objects; as plain JSON, a float variable's NaN or Infinity shows as null). Off by default: each transition
 * then costs an encoding of the process's whole context.
 * Core NATS, through the node's event outbox, so at most once and in the order each process made them.
 * @module
 */
import type { InspectionEvent } from 'xstate';
import type { EventOutbox } from './event-outbox.js';
import type { TetherSubjects } from './subjects.js';

/** One inspected snapshot as it travels. */
export interface InspectedSnapshot {
  readonly type: 'snapshot';
  /** The machine: `session` or `module`. */
  readonly machine: 'session' | 'module';
  /** The node whose process it is: its connection name, or `tether-node@<host>:<pid>` for an unnamed node. */
  readonly node: string;
  readonly sessionId: string;
  readonly moduleId?: string;
  /** The event the process had just processed (its `type`, and its payload). */
  readonly event: unknown;
  /** The state value, e.g. `{ active: 'idle' }` or `'executing'`. */
  readonly value: unknown;
  readonly status: string;
  readonly context: unknown;
}

/** The context with its maps (a session's variables and revisions) as plain objects, which JSON can carry. */
function plainContext(context: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context))
    out[key] = value instanceof Map ? Object.fromEntries(value) : value;
  return out;
}

/** What an inspection event's actor and snapshot look like at run time (XState types them narrowly). */
interface Inspected {
  readonly actorRef: { readonly logic?: { readonly id?: unknown } };
  readonly snapshot: { readonly value?: unknown; readonly status?: string; readonly context?: unknown };
  readonly event: unknown;
}

/**
 * An XState inspector publishing the snapshots of the session and module machines through `outbox`; the
 * snapshots of any other actor (a module's runner, a supervisor) are not published.
 */
export function natsInspector(
  outbox: EventOutbox,
  subjects: TetherSubjects,
  node: string,
): (event: InspectionEvent) => void {
  return (event) => {
    if (event.type !== '@xstate.snapshot') return;
    const { actorRef, snapshot, event: cause } = event as unknown as Inspected;
    const machine = actorRef.logic?.id;
    if (machine !== 'session' && machine !== 'module') return;
    const context = snapshot.context as { sessionId?: unknown; moduleId?: unknown } | undefined;
    if (typeof context?.sessionId !== 'string') return;
    const sessionId = context.sessionId;
    const moduleId = machine === 'module' && typeof context.moduleId === 'string' ? context.moduleId : undefined;
    if (machine === 'module' && moduleId === undefined) return;
    const subject =
      moduleId === undefined ? subjects.inspectSession(sessionId) : subjects.inspectModule(sessionId, moduleId);
    const message: InspectedSnapshot = {
      type: 'snapshot',
      machine,
      node,
      sessionId,
      ...(moduleId === undefined ? {} : { moduleId }),
      event: cause,
      value: snapshot.value,
      status: snapshot.status ?? 'active',
      context: plainContext(context),
    };
    outbox.publish(subject, message);
  };
}
