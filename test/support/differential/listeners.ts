/**
 * What module listeners hear, on each side: every module handle a call gets (`session.module(id, spec?)`,
 * `session.modules()`) has an `on` listener of every module event type and an `onState` listener attached at once,
 * and what each heard is kept, in order, to be compared with what the reference side's heard (see run.ts).
 * @module
 */
import { MODULE_LISTENED_EVENTS } from '../../../src/modules/module-event-type.js';
import type { ModuleApi } from '../../../src/modules/module-api.js';

/** One thing a listener heard: which handle (numbered in the order the side got them), which listener, what. */
export interface Heard {
  readonly handle: number;
  /** The event type of an `on` listener, or `state` for the `onState` one. */
  readonly listener: string;
  readonly heard: unknown;
  /** Heard once a module was created again under the handle's module id, after the handle was got. */
  readonly later: boolean;
}

/** What a side's module listeners heard, how many handles it got, and how many modules it created of each id. */
export interface HeardLog {
  readonly heard: Heard[];
  handles: number;
  readonly created: Map<string, number>;
}

/** What {@link heardView} adds to what a handle heard after a module was created again under its module id. */
export const LATER_MODULE = 'after its module id was created again';

/** The listeners' order within one handle, for {@link heardView}. */
const LISTENERS = [...MODULE_LISTENED_EVENTS, 'state'];

/** How long a handle's first `onState` call may take: a remote one reads the state first (README, `onState`). */
const FIRST_STATE_WAIT_MS = 2_000;

/**
 * Attaches the listeners to `handle`, the next handle of `log`, which `created` the module or got it. What it hears
 * once a module of its id was created again (the one it was got for stopped meanwhile) is marked
 * {@link LATER_MODULE}: whether a handle hears that module differs by kind (see known.ts).
 *
 * Resolves once its `onState` listener heard the state the module is in, or the handle found the module gone (`alive`
 * false): a remote handle's first call comes once its read answers, and a read answered only after the next call
 * began would tell that call's state as the first, not the `idle` an embedded handle told at once (README: the changes
 * published before the read answers are held and told after it, but for those the read already saw).
 */
export async function listenTo(log: HeardLog, handle: ModuleApi, created = false): Promise<void> {
  log.handles += 1;
  const number = log.handles;
  const { moduleId } = handle;
  if (created) log.created.set(moduleId, (log.created.get(moduleId) ?? 0) + 1);
  const module = log.created.get(moduleId) ?? 0;
  const hear = (listener: string, heard: unknown): void => {
    const later = (log.created.get(moduleId) ?? 0) > module;
    log.heard.push({ handle: number, listener, heard, later });
  };
  for (const type of MODULE_LISTENED_EVENTS)
    handle.on(type, (event) => hear(type, withoutLife(event, handle.incarnation)));
  let told = false;
  handle.onState((state, executionId) => {
    told = true;
    hear('state', [state, executionId]);
  });
  const deadline = Date.now() + FIRST_STATE_WAIT_MS;
  while (!told && handle.alive && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Normalised: the life of the session a remote handle is bound to and the node that published the event, which every
 * event over NATS names (README, the `tether.v1.events.<sid>.module.<mid>` row of the subjects table) and an embedded
 * handle's events do not (its type, `HeardModuleEvent`, says a remote listener hears only those more). Dropped only
 * where it is the handle's own life, so that an event of another life, which such a handle must never hear, still
 * shows; the event's frozenness is kept.
 */
function withoutLife(event: object, life: string | undefined): object {
  const { incarnation, nodeId: _node, ...rest } = event as { incarnation?: unknown; nodeId?: unknown };
  if (life === undefined || incarnation !== life) return event;
  return Object.isFrozen(event) ? Object.freeze(rest) : rest;
}

/**
 * What was heard, grouped by handle and then by listener, each listener's in the order it heard them: the order in
 * which two listeners (two subscriptions, remotely) hear one event is promised nowhere.
 */
export function heardView(heard: readonly Heard[]): unknown[] {
  const rank = (entry: Heard): number => entry.handle * LISTENERS.length + LISTENERS.indexOf(entry.listener);
  return [...heard]
    .sort((a, b) => rank(a) - rank(b))
    .map(({ handle, listener, heard: what, later }) => [handle, listener, what, ...(later ? [LATER_MODULE] : [])]);
}
