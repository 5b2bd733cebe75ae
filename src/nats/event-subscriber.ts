/**
 * A plain subscriber of what the nodes publish per session: their events (`<prefix>.v1.events.>`, or one
 * session's `<prefix>.v1.events.<sid>.>`), or the snapshots of their inspected processes (`<prefix>.v1.inspect.>`).
 * For tools such as `tether events` and `tether inspect`; code that wants the changes of one session's variables
 * uses `session.watchVariables` instead.
 * @module
 */
import { NatsConnectionError, ValidationError } from '../errors.js';
import { assertSessionId } from '../variables/names.js';
import { assertFunctionOption, assertOptionKeys, optionKeys } from '../option-keys.js';
import { kindOf } from '../variables/failure.js';
import {
  CONNECTION_SETTING_KEYS,
  assertConnectionSettings,
  connectNats,
  reportReconnects,
} from './connection-options.js';
import type { ConnectOptions } from './remote-client.js';
import { createSubjects } from './subjects.js';
import { callUserCallback, userReporter } from '../runtime/user-callback.js';
import { printable } from '../printable.js';
import type { InspectedEvent, TetherEvent } from './tether-event.js';
import { refusalOf, refusedError } from './permission-refusal.js';

const decoder = new TextDecoder();

/** Options of {@link subscribeEvents}. */
export interface SubscribeEventsOptions extends Omit<ConnectOptions, 'timeoutMs'> {
  /** Only this session's events. @default every session */
  readonly sessionId?: string;
  /**
   * `events`, or `inspect` for the process snapshots of nodes started with `inspect: true`
   * (each message's `data` is an `InspectedSnapshot`, see {@link InspectedEvent}); any other is a `ValidationError`.
   * @default 'events'
   */
  readonly feed?: 'events' | 'inspect';
}

/** What the listener of `feed` gets: a {@link TetherEvent} of `events`, an {@link InspectedEvent} of `inspect`. */
export type FeedEvent<F extends 'events' | 'inspect'> = F extends 'inspect' ? InspectedEvent : TetherEvent;

/** A running subscription. */
export interface EventSubscription {
  /** The subject subscribed to. */
  readonly subject: string;
  /** Ends the subscription and closes its connection. */
  stop(): Promise<void>;
  /** Resolves once the connection has closed: after `stop`, or when it gave up reconnecting. */
  readonly closed: Promise<void>;
}

/** The keys {@link SubscribeEventsOptions} takes; any other is refused. */
const SUBSCRIBE_EVENTS_KEYS = optionKeys<SubscribeEventsOptions>({
  ...CONNECTION_SETTING_KEYS,
  prefix: true,
  onError: true,
  sessionId: true,
  feed: true,
});

/**
 * Subscribes to the events subjects on its own connection; `listener` gets every event, in arrival order, typed by
 * `feed`: `switch (event.kind)` narrows its `data`.
 * Core NATS: events published while nobody listens are not replayed.
 * @throws {ValidationError} for options that are no object or name an option it does not take, an unknown `feed`,
 * an invalid `sessionId` or `reconnect` policy, a `listener` or `onError` that is no function, before connecting
 * @throws {NatsConnectionError} (`refused`, its connection closed) when the server's permissions refuse the
 * subscription; (`disconnected`, its connection closed) when the connection drops before the server confirmed it
 * @example
 * const events = await subscribeEvents({ servers: 'nats://127.0.0.1:4222', sessionId: 'chat-1' }, (e) => console.log(e.subject, e.data));
 * // ...
 * await events.stop();
 */
export async function subscribeEvents<F extends 'events' | 'inspect' = 'events'>(
  options: SubscribeEventsOptions & { readonly feed?: F },
  listener: (event: FeedEvent<F>) => void,
): Promise<EventSubscription> {
  assertOptionKeys(options, 'subscribeEvents', SUBSCRIBE_EVENTS_KEYS);
  assertConnectionSettings('subscribeEvents', options);
  assertFunctionOption('subscribeEvents', 'onError', options.onError);
  // Taken, it would throw at every event, each failure told to `onError`, and the subscription would look as if it ran.
  if (typeof listener !== 'function')
    throw new ValidationError(`subscribeEvents needs a listener function, got ${kindOf(listener)}`, {
      details: { field: 'listener', got: kindOf(listener) },
    });
  const { feed = 'events' } = options;
  // A misspelt feed would otherwise subscribe to the events and wait, silently, for what never comes there.
  if (feed !== 'events' && feed !== 'inspect')
    throw new ValidationError(`unknown feed '${printable(feed).slice(0, 200)}': must be 'events' or 'inspect'`, {
      details: { field: 'feed', feed: printable(feed).slice(0, 200) },
    });
  const subjects = createSubjects(options.prefix);
  const all = feed === 'inspect' ? subjects.inspect() : subjects.allEvents();
  const base = all.slice(0, -1); // `<prefix>.v1.events.` or `<prefix>.v1.inspect.`
  if (options.sessionId !== undefined) assertSessionId(options.sessionId);
  const subject = options.sessionId === undefined ? all : `${base}${options.sessionId}.>`;
  const connection = await connectNats(options);
  const report = userReporter(options.onError);
  // A core subscription: nats.js subscribes again after a reconnect, so events flow on once NATS is back.
  reportReconnects(connection, options, report);
  /** The server's refusal of the subscription, while it starts: the start fails with it rather than report it. */
  let refused: Error | undefined;
  let started = false;
  const subscription = connection.subscribe(subject, {
    callback: (error, message) => {
      if (error) {
        if (!started && refusalOf(error)) return void (refused = error);
        return report(error, `events subscription ${subject}`);
      }
      const [sessionId = '', kind = '', ...rest] = message.subject.slice(base.length).split('.');
      const text = decoder.decode(message.data);
      let data: unknown;
      try {
        data = JSON.parse(text) as unknown;
      } catch {
        data = text;
      }
      callUserCallback(
        // Typed as a node publishes it, unchecked: a tool shows whatever arrives rather than drop it.
        () => listener({ subject: message.subject, sessionId, kind, name: rest.join('.'), data } as FeedEvent<F>),
        (listenerError) => report(listenerError, `events listener of ${subject}`),
      );
    },
  });
  // Registered with the server before this resolves: an event published right after is not missed. A refusal comes
  // before the flush's answer, and nats.js has closed the subscription then: nothing could ever arrive on it.
  try {
    await connection.flush();
  } catch (error) {
    // Dropped before the server confirmed the subscription (nats.js fails the flush's PONG at the drop): left
    // reconnecting, the connection the caller never got would hand events to its listener, with nothing to stop it.
    const server = connection.getServer();
    await connection.close();
    throw new NatsConnectionError(
      'disconnected',
      server,
      `events subscription ${subject} not started: the connection dropped before the server confirmed it`,
      { cause: error },
    );
  }
  started = true;
  if (refused) {
    const server = connection.getServer();
    await connection.close();
    throw refusedError(server, `events subscription ${subject} refused`, refused);
  }
  return {
    subject,
    closed: connection.closed().then(() => undefined),
    async stop() {
      subscription.unsubscribe();
      if (!connection.isClosed()) await connection.close();
    },
  };
}
