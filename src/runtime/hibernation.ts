/**
 * What hibernation needs beside the runtime's bookkeeping: a spawn's `hibernateAfter` checked, the machine that
 * resumes a live snapshot as it is, and the test of whether a process is idle enough to be put to sleep. The
 * runtime's `Hibernator` (hibernator.ts) puts these together with its calls and an idle clock.
 * @module
 */
import type { AnyActor, AnyActorLogic, Subscription } from 'xstate';
import { ValidationError } from '../errors.js';
import { REPLY } from '../../machines/protocol.js';
import { MAX_TIMEOUT_MS } from './process-runtime-options.js';
import { printable } from '../printable.js';

/** How a process spawned with `hibernateAfter` is put to sleep and woken. */
export interface Sleeper {
  /** The process's machine, restoring a snapshot as it is (see {@link resumingFrom}). */
  readonly resume: AnyActorLogic;
  readonly systemId: string | undefined;
  readonly afterMs: number;
  /** The runtime's own observer of the current actor, removed before the actor is stopped to hibernate. */
  subscription: Subscription | undefined;
}

/**
 * Whether the process is doing something a stop would cut short, holds what a restored snapshot cannot carry, or is
 * watched through its actor: a child actor (running, or finished and kept in its snapshot: a restored process would
 * not have it, and an event to it that was dropped awake would crash the process asleep), a pending delayed event,
 * or an observer other than the runtime's own one subscription and reply listener. The observers are XState's
 * internal fields; a test pins them, so an XState upgrade that renames them fails there rather than hibernating
 * watched processes.
 */
export function hasWorkOrWatchers(actor: AnyActor, snapshot: { children?: Record<string, AnyActor> }): boolean {
  if (Object.keys(snapshot.children ?? {}).length > 0) return true;
  if (Object.keys(actor.system.getSnapshot()._scheduledEvents).length > 0) return true;
  const internals = actor as unknown as { observers?: Set<unknown>; eventListeners?: Map<string, Set<unknown>> };
  if ((internals.observers?.size ?? 0) > 1) return true;
  for (const [type, handlers] of internals.eventListeners ?? [])
    if (handlers.size > (type === REPLY ? 1 : 0)) return true;
  return false;
}

/**
 * `machine`, resuming from a snapshot it made itself exactly as it is. XState's own restore expects its
 * persisted form, which deep-copies the context (a cycle overflows the stack) and walks all of it again to
 * revive actor refs, rewriting in place whatever looks like one; a live snapshot needs none of that.
 */
export function resumingFrom(machine: AnyActorLogic): AnyActorLogic {
  let resuming = resumingLogic.get(machine);
  if (!resuming) {
    resuming = Object.create(machine, { restoreSnapshot: { value: (snapshot: unknown) => snapshot } }) as AnyActorLogic;
    resumingLogic.set(machine, resuming);
  }
  return resuming;
}

/** One resuming machine per machine, shared by all its processes. */
const resumingLogic = new WeakMap<AnyActorLogic, AnyActorLogic>();

/** Throws unless `afterMs` is a duration in range and `logic` a state machine, which alone can be resumed. */
export function assertHibernateAfter(logic: AnyActorLogic, afterMs: number): void {
  // From 1, as the message says and a call's timeout takes: 0.5 passed a `> 0` check.
  if (!(typeof afterMs === 'number' && afterMs >= 1 && afterMs <= MAX_TIMEOUT_MS)) {
    throw new ValidationError(`hibernateAfter must be between 1 and ${MAX_TIMEOUT_MS} ms, got ${printable(afterMs)}`, {
      // As text when JSON cannot carry it: NaN or Infinity would travel as null.
      details: { hibernateAfter: Number.isFinite(afterMs) ? afterMs : printable(afterMs) },
    });
  }
  // By shape rather than instanceof: a machine built with another copy of xstate is a machine too.
  const machine = logic as { root?: unknown; resolveState?: unknown; restoreSnapshot?: unknown };
  if (!(machine.root && typeof machine.resolveState === 'function' && typeof machine.restoreSnapshot === 'function')) {
    throw new ValidationError(
      'hibernateAfter needs a state machine (createMachine or setup().createMachine): other logic cannot be ' +
        'restored from a snapshot without running its work again',
      { details: { hibernateAfter: afterMs } },
    );
  }
}
