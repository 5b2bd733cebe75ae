/**
 * The events of one module as a remote module handle's listener hears them: those of the session's life the handle
 * is bound to only (another life's module of the same id is another module), until that life ends, when the
 * subscription stops and the client's `onError` is told, as a watch's is (not of a delete of this client's own).
 * @module
 */
import type { Subscription } from 'nats';
import type { SessionError } from '../errors.js';
import { moduleEventFault } from './module-event-check.js';
import type { ModuleEvent } from './module-events.js';
import type { RemoteTransport } from './remote-transport.js';
import { ofLife, subscribeJsonEvents, subscribeSessionEnd } from './watch-subscriptions.js';

/** The module whose events are heard, and the life of its session (`undefined`: any life). */
export interface ModuleEventTarget {
  readonly sessionId: string;
  readonly moduleId: string;
  readonly incarnation: string | undefined;
}

/** One listener's subscription to a module's events. */
export interface ModuleEventSubscription {
  /** Stops the events; a second call does nothing. */
  readonly unsubscribe: () => void;
  /** The life ended (a read found it gone): stops the events and tells the client, once. */
  readonly ended: (error: SessionError) => void;
  /** Whether the events still come. */
  readonly active: () => boolean;
}

/**
 * Subscribes `deliver` to the events of `target`; `onLifeEnd` hears the end of its life (its end event, or
 * {@link ModuleEventSubscription.ended}) once the events have stopped.
 */
export function subscribeModuleEvents(
  transport: RemoteTransport,
  target: ModuleEventTarget,
  deliver: (event: ModuleEvent) => void,
  onLifeEnd: (error: SessionError) => void,
): ModuleEventSubscription {
  const { sessionId, moduleId, incarnation } = target;
  const subject = transport.subjects.moduleEvent(sessionId, moduleId);
  let end: Subscription | undefined;
  // Its shape checked already, by the fault check, which drops and reports a message no node would publish. Another
  // life's module of the same id is another module (another user's, maybe): not this handle's.
  const accept = (event: unknown): event is ModuleEvent => {
    const { sessionId: of, moduleId: id, incarnation: life } = event as ModuleEvent;
    return of === sessionId && id === moduleId && ofLife(incarnation, life);
  };
  let subscription: Subscription | undefined = subscribeJsonEvents(
    transport,
    subject,
    accept,
    deliver,
    undefined,
    moduleEventFault,
  );
  const unsubscribe = (): void => {
    subscription?.unsubscribe();
    subscription = undefined;
    end?.unsubscribe();
    end = undefined;
  };
  const ended = (error: SessionError): void => {
    if (!subscription) return;
    unsubscribe();
    onLifeEnd(error);
    transport.reportEnd(
      sessionId,
      error,
      `listener of module ${moduleId} of session ${sessionId}: the session ended, it stopped`,
    );
  };
  // Its life's end ends it, as it ends a watch: the module went with it, and nothing of the next life is for it.
  if (incarnation !== undefined) end = subscribeSessionEnd(transport, sessionId, incarnation, ended);
  return { unsubscribe, ended, active: () => subscription !== undefined };
}
