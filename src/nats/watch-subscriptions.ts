/**
 * The two event streams a remote watch listens to, decoded: the variable events of a session (as the listener's
 * `VariableChange`s), and the session's end event. A watch lives as long as the life of the session it watches:
 * when the session is deleted or expires, the node that removed it publishes `<prefix>.v1.events.<sid>.session`,
 * and the watch stops there, telling the client's `onError` with the `SessionError` a request would get. A handle
 * bound to a life ends with that life only; one bound to no life (`create: false`) ends on any end event.
 * @module
 */
import type { Msg, Subscription } from 'nats';
import { SessionError, ValidationError } from '../errors.js';
import type { VariableChange } from '../session/session-context.js';
import type { RemoteTransport } from './remote-transport.js';
import type { VariableEvent } from './variable-events.js';
import { decodeWireValue } from './wire.js';
import { guarded } from './guarded-callback.js';
import { variableEventFault } from './variable-event-check.js';

const decoder = new TextDecoder();

/**
 * The listener's view of an event, its values deep-frozen as an embedded watch hands them out (they are its stored
 * records' own). Each event is parsed for one watch and turned into one change, so its values are decoded once.
 */
export function changeOf(event: VariableEvent): VariableChange {
  return {
    name: event.name,
    oldValue: 'oldValue' in event ? decodeWireValue(event.oldType ?? event.type, event.oldValue) : undefined,
    newValue: 'newValue' in event ? decodeWireValue(event.type, event.newValue) : undefined,
    version: event.version,
    updatedBy: event.updatedBy ?? null,
    ...(event.deleted ? { deleted: true as const } : {}),
  };
}

/** Told that a subscription failed (the server refused it, say); `where` names the subscription. */
export type SubscriptionFailed = (error: Error, where: string) => void;

/**
 * Why a message on an events subject is none a node publishes (see variable-event-check.ts), `undefined` when it is
 * one: such a message is dropped and reported.
 */
export type EventFault = (event: unknown) => string | undefined;

/**
 * Subscribes `onEvent` to the JSON messages on `subject` that `accept` takes (it checks the shape and the target in
 * one); a message that is not JSON, or not taken, is dropped, and a failing subscription is told to `failed`
 * (reported, by default). With `fault`, a message that is not JSON or that `fault` finds wrong is also reported, as a
 * `ValidationError` naming its subject and what is wrong.
 */
export function subscribeJsonEvents<T>(
  transport: RemoteTransport,
  subject: string,
  accept: (event: unknown) => event is T,
  onEvent: (event: T) => void,
  failed: SubscriptionFailed = transport.report,
  fault?: EventFault,
): Subscription {
  const refuse = (msg: Msg, why: string): void =>
    transport.report(
      new ValidationError(`event on ${msg.subject} dropped: ${why}`, { details: { subject: msg.subject } }),
      `event subscription ${subject}`,
    );
  return transport.connection.subscribe(subject, {
    // Guarded as every callback: a listener's or a check's throw must not deafen the client's connection.
    callback: guarded(transport.report, `event subscription ${subject}`, (error, msg) => {
      if (error) return failed(error, `event subscription ${subject}`);
      let event: unknown;
      try {
        event = JSON.parse(decoder.decode(msg.data));
      } catch {
        return fault ? refuse(msg, 'it is not JSON') : undefined;
      }
      const why = fault?.(event);
      if (why !== undefined) return refuse(msg, why);
      if (accept(event)) onEvent(event);
    }),
  });
}

/**
 * Whether an event of the life `eventLife` is for a subscriber bound to the life `life` (any, when `undefined`). An
 * event naming no life comes from a node that did not know it (an older node): kept, as before lives.
 */
export const ofLife = (life: string | undefined, eventLife: string | undefined): boolean =>
  life === undefined || eventLife === undefined || eventLife === life;

/**
 * Subscribes to the variable events on `subject`; `onEvent` gets those of `sessionId` whose name `matches`, and of
 * its life `incarnation` when given (an event naming no life, from a node that did not know it, too). A message
 * that is no such event is dropped, and reported unless it is only another session's or life's; a failing
 * subscription is told to `failed`.
 */
export function subscribeVariableEvents(
  transport: RemoteTransport,
  subject: string,
  sessionId: string,
  incarnation: string | undefined,
  matches: (name: string) => boolean,
  onEvent: (event: VariableEvent) => void,
  failed?: SubscriptionFailed,
): Subscription {
  // Its shape checked already, by the fault check, once per message. A change of another life of the id (the next
  // one's, published before this watch heard its life end) is another session's: dropped, whatever the order the end
  // event and it arrive in.
  const accept = (event: unknown): event is VariableEvent => {
    const change = event as VariableEvent;
    return change.sessionId === sessionId && matches(change.name) && ofLife(incarnation, change.incarnation);
  };
  return subscribeJsonEvents(transport, subject, accept, onEvent, failed, variableEventFault);
}

/**
 * Subscribes to the end event of `sessionId`; `onEnd` gets the `SessionError` a request would get, once the life
 * `incarnation` ended (any life, when `undefined`). A failing subscription is told to `failed` (reported, by default).
 */
export function subscribeSessionEnd(
  transport: RemoteTransport,
  sessionId: string,
  incarnation: string | undefined,
  onEnd: (error: SessionError) => void,
  failed: SubscriptionFailed = transport.report,
): Subscription {
  return transport.connection.subscribe(transport.subjects.sessionEvent(sessionId), {
    callback: guarded(transport.report, `session event subscription of ${sessionId}`, (error, msg) => {
      if (error) return failed(error, `session event subscription of ${sessionId}`);
      let event: { sessionId?: unknown; incarnation?: unknown; reason?: unknown };
      try {
        event = JSON.parse(decoder.decode(msg.data)) as typeof event;
      } catch {
        return;
      }
      if (event?.sessionId !== sessionId) return;
      // A handle bound to a life ends with that life only (an end of an earlier one may arrive late).
      if (incarnation !== undefined && event.incarnation !== incarnation) return;
      onEnd(new SessionError(event.reason === 'expired' ? 'session_expired' : 'session_not_found', sessionId));
    }),
  });
}
