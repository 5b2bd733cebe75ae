/**
 * The module events a handle's `on` listens to, and the checks of what `on` and `onState` are given: one vocabulary for
 * a local module's handle and a remote one's.
 * @module
 */
import type { ModuleEmittedEvent } from '../../machines/module.machine.js';
import { ValidationError } from '../errors.js';
import { kindOf } from '../variables/failure.js';

/** The events a module announces, by type. */
export type ModuleEventType = Exclude<ModuleEmittedEvent['type'], 'tether.reply'>;

/** Every {@link ModuleEventType}: what `on` listens to (state changes are heard with `onState`). */
export const MODULE_LISTENED_EVENTS: readonly ModuleEventType[] = Object.freeze([
  'module.result',
  'module.failed',
  'module.delta',
  'module.synced',
  'module.syncFailed',
]);

/**
 * Refuses an event type no module announces (a typo from JavaScript would otherwise leave a listener that is never
 * called), naming the types there are.
 * @throws {ValidationError}
 */
export function assertModuleEventType(type: unknown): asserts type is ModuleEventType {
  if ((MODULE_LISTENED_EVENTS as readonly unknown[]).includes(type)) return;
  const hint = type === 'module.state' ? ' (state changes are heard with onState)' : '';
  throw new ValidationError(
    `on() takes one of ${MODULE_LISTENED_EVENTS.join(', ')}, got ${typeof type === 'string' ? `'${type.slice(0, 60)}'` : kindOf(type)}${hint}`,
    { details: { field: 'type', accepted: [...MODULE_LISTENED_EVENTS] } },
  );
}

/**
 * Throws `ValidationError` unless `listener` is a function: given to `on` or `onState`, anything else would throw at
 * every event, far from the call that gave it.
 */
export function assertModuleListener(
  listener: unknown,
  method: 'on' | 'onState',
): asserts listener is (...args: never[]) => unknown {
  if (typeof listener === 'function') return;
  throw new ValidationError(`${method}() needs a listener function, got ${kindOf(listener)}`, {
    details: { field: 'listener' },
  });
}

/**
 * One module event as `on` hands it out: the process's event, naming its session and module, as a remote handle's
 * listener hears the same event from NATS (which adds only `incarnation`, the life of the session there, and
 * `nodeId`, the node whose process it is).
 */
export type HeardModuleEvent<T extends ModuleEventType> = Extract<ModuleEmittedEvent, { type: T }> & {
  readonly sessionId: string;
  readonly moduleId: string;
};

/** A listener of one module event type. */
export type ModuleEventListener<T extends ModuleEventType> = (event: HeardModuleEvent<T>) => void;
