/**
 * The subscriptions of `SessionService.serveOn`: an endpoint served on a subject of its own, through a subscription in
 * the service's queue group but outside the micro service (`$SRV` does not list it), for subjects that come and go (a
 * module's forward subjects live as long as its process). Each drains on its own, or with the service.
 * @module
 */
import type { NatsConnection, Subscription } from 'nats';
import { guarded } from './guarded-callback.js';
import { asServiceRequest, type ServiceRequest } from './service-endpoint.js';
import { createStopGrace, settlesInGrace, type StopGrace } from './stop-grace.js';

/**
 * How long {@link ServedSubscriptions.serve} waits for the server to confirm a subscription. Bounded: during an outage
 * the subscription goes out once the connection is back, and what it serves (a module that runs on this node) must
 * not wait for NATS to be created.
 */
const SUBSCRIBE_WAIT_MS = 2_000;

/** The subscriptions a service serves endpoints on besides its micro service's, drained with the service. */
export class ServedSubscriptions {
  readonly #connection: NatsConnection;
  readonly #queue: string;
  readonly #report: (error: unknown, where: string) => void;
  /** The subscriptions of `SessionService.serveOn` not drained yet. */
  readonly #subscriptions = new Set<Subscription>();

  constructor(connection: NatsConnection, queue: string, report: (error: unknown, where: string) => void) {
    this.#connection = connection;
    this.#queue = queue;
    this.#report = report;
  }

  /**
   * Subscribes `handle` to `subject` in the queue group. Resolves once the server has the subscription (or
   * {@link SUBSCRIBE_WAIT_MS} has passed), to the function that drains it again.
   */
  async serve(
    subject: string,
    handle: (error: Error | null, msg: ServiceRequest) => void,
  ): Promise<() => Promise<void>> {
    const report = this.#report;
    const subscription = this.#connection.subscribe(subject, {
      queue: this.#queue,
      callback: guarded(report, `subscription ${subject}`, (error, msg) =>
        error ? report(error, `subscription ${subject}`) : handle(null, asServiceRequest(msg)),
      ),
    });
    this.#subscriptions.add(subscription);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#connection.flush().catch(() => {}),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return () => this.#drain(subscription);
  }

  /** Drains every subscription not drained yet, each waited for within `grace` (see `#drain`). */
  drainAll(grace: StopGrace): Promise<unknown> {
    return Promise.all([...this.#subscriptions].map((subscription) => this.#drain(subscription, grace)));
  }

  /**
   * Drains one subscription: a request the server routed to it before it went still gets served.
   * Waited for within `grace` (the stop's, or a stop's length for a module's release, which a stop may wait for):
   * nats.js's drain ends with the server's answer to a flush, which a server that stopped answering with the
   * connection still up (frozen, its packets dropped) never sends, and no outage comes to end the wait. Past it, the
   * subscription goes on draining, or closes with the connection.
   */
  async #drain(subscription: Subscription, grace = createStopGrace()): Promise<void> {
    if (!this.#subscriptions.delete(subscription) || subscription.isClosed()) return;
    const draining = subscription.drain().catch((error: unknown) => {
      // A closed connection has ended the subscription already.
      if (!this.#connection.isClosed()) this.#report(error, `draining ${subscription.getSubject()}`);
    });
    await settlesInGrace(draining, grace);
  }
}
