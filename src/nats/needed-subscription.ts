/**
 * The subscriptions a node needs to be correct, confirmed as it starts. nats.js only sends a subscription; the server
 * answers one its user's permissions refuse with an error before the answer to the next flush, and nats.js then hands
 * that error to the subscription's callback and closes it. A node refused one would start and run without ever
 * hearing what comes there: refused `<prefix>.v1.control.>`, it never heard another node end a session, and went on
 * acknowledging writes to a session nobody could read any more. So each start flushes, checks, and fails with
 * `NatsConnectionError` (`refused`, `details.subject`); a refusal that comes later (permissions reloaded on the server,
 * or a resubscription after a reconnect refused) is told to `onError` as that same error, not as nats.js's.
 * @module
 */
import { Events, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import type { NatsConnectionError } from '../errors.js';
import { guarded } from './guarded-callback.js';
import { refusalOf, refusedError, subscriptionRefusedError } from './permission-refusal.js';

/** Options of {@link subscribeNeeded}. */
export interface NeededSubscriptionOptions {
  /** What the subscription is for, as errors and reports name it, e.g. `session control subscription`. */
  readonly what: string;
  /** The node's subject prefix, named in the error as what its NATS user must be allowed. */
  readonly prefix: string;
  /**
   * Told what fails once started: a refusal as `NatsConnectionError` (`refused`, `details.subject`) with `where`
   * `nats`, anything else with `where` {@link NeededSubscriptionOptions.what}.
   */
  readonly report: (error: unknown, where: string) => void;
  /** Takes each message; what it throws is told to `report`, never to nats.js's reader (see guarded-callback.ts). */
  readonly onMessage: (msg: Msg) => void;
}

/**
 * The error a node's start fails with when the server refused it the subscription `what` as `refusal` says: the
 * refused subject in `details.subject`, and in the message what the node's NATS user must be allowed.
 */
function neededSubscriptionRefused(
  connection: NatsConnection,
  what: string,
  prefix: string,
  refusal: unknown,
): NatsConnectionError {
  const allowed = `its NATS user must be allowed to subscribe to '${prefix}.>' and '$SRV.>'`;
  return refusedError(connection.getServer(), `the server refused this node its ${what} (${allowed})`, refusal);
}

/**
 * Waits until the server has every subscription sent so far on `connection`, then fails when `refusal` (asked after
 * that) names one it refused: with {@link neededSubscriptionRefused}.
 * @throws {NatsConnectionError} `refused`, naming the subject in `details.subject`
 */
export async function confirmSubscribed(
  connection: NatsConnection,
  what: string,
  prefix: string,
  refusal: () => unknown,
): Promise<void> {
  // The server answers a subscription it refuses before the flush's PONG.
  await connection.flush();
  const refused = await refusal();
  if (refused !== undefined) throw neededSubscriptionRefused(connection, what, prefix, refused);
}

/**
 * Subscribes to `subject`, without a queue group (every node hears every message), and resolves once the server has
 * the subscription (see the module comment).
 * @throws {NatsConnectionError} `refused` (nothing left subscribed) when the server refused it
 */
export async function subscribeNeeded(
  connection: NatsConnection,
  subject: string,
  options: NeededSubscriptionOptions,
): Promise<Subscription> {
  const { what, report } = options;
  let starting = true;
  let refused: unknown;
  const subscription = connection.subscribe(subject, {
    callback: guarded(report, what, (error, msg) => {
      if (!error) return options.onMessage(msg);
      if (!refusalOf(error)) return report(error, what);
      if (starting) return void (refused = error);
      // Closed by nats.js: the node hears nothing here from now on, and its operator must know why. Told as the
      // refusals of its publishes are (see publish-refusal-report.ts).
      report(refusedError(connection.getServer(), `${what} ${subject} refused`, error), 'nats');
    }),
  });
  try {
    await confirmSubscribed(connection, what, options.prefix, () => refused);
  } catch (error) {
    subscription.unsubscribe();
    throw error;
  } finally {
    starting = false;
  }
  return subscription;
}

/** What {@link serviceSubjectRefusals} gathers. */
export interface ServiceSubjectRefusals {
  /**
   * The first `$SRV` subscription refused so far, as its permissions violation, once the statuses the connection has
   * dispatched are all taken (ask after a flush: the server refuses a subscription before the flush's answer).
   */
  first(): Promise<NatsError | undefined>;
  /** The node started: each refusal from now on goes to `later`, once per subject. */
  started(): void;
  stop(): void;
}

/**
 * Gathers the refusals of `$SRV` subscriptions the server sends `connection` from now on, until `stop()`. A node
 * refused them would serve requests and answer no ping, so that its callers take it for lost (`node_lost`) while it
 * runs on. nats.js hands a refused subscription its error only when the subscription's queue equals the error's, and
 * its micro service subscribes to `$SRV` with the queue '' where the error has none: the refusal reaches none of them
 * and the service never closes. The connection's status is where it shows. Once {@link ServiceSubjectRefusals.started},
 * a refusal (permissions reloaded on the server) is handed to `later` as the `NatsConnectionError` (`refused`) a
 * needed subscription refused later is told as.
 */
export function serviceSubjectRefusals(
  connection: NatsConnection,
  later: (error: NatsConnectionError) => void,
): ServiceSubjectRefusals {
  const statuses = connection.status();
  let refused: NatsError | undefined;
  let running = false;
  const told = new Set<string>();
  void (async () => {
    for await (const status of statuses) {
      const context = status.permissionContext;
      if (status.type !== Events.Error || context?.operation !== 'subscription') continue;
      if (!context.subject.startsWith('$SRV.')) continue;
      const error = subscriptionRefusedError(context.subject);
      if (!running) refused ??= error;
      else if (!told.has(context.subject)) {
        told.add(context.subject);
        later(refusedError(connection.getServer(), `service subscription ${context.subject} refused`, error));
      }
    }
  })();
  return {
    async first() {
      // The status iterator hands statuses on in microtasks: all of them have run before the next macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      return refused;
    },
    started: () => void (running = true),
    // As in connection-link.ts: nats.js's queued iterator, whose `stop` removes it from the connection's listeners.
    stop: () => (statuses as Partial<{ stop(): void }>).stop?.(),
  };
}
