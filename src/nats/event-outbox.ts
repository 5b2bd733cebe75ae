/**
 * The node's outgoing events, sent together: with the reply of the request that caused them, or else once the
 * current macrotask is over.
 *
 * nats.js writes its outbound buffer to the socket at the end of each microtask turn, so events published one
 * by one as a module execution moves `syncing → executing → idle` cost one socket write each (measured ~25 µs
 * apiece, five per execution), all of it on the path of the execution's reply. Queued here, they leave in one
 * write: the service sends them right before a reply ({@link EventOutbox.sendNow}), so a client subscribed to a
 * module's or a variable's events has received those its request caused by the time the reply arrives. Events
 * nobody replies after (an embedded caller's) go from one `setImmediate`, after the call returned. Either way
 * the order of publishing is kept: first queued, first published.
 *
 * While the node's connection is down, nats.js drops what is published; a subscriber whose own connection stayed
 * up would never hear that the execution it follows ended (a UI left showing `executing`). So a node's outbox sends
 * through the {@link HeldOutput} its replies go through: what is due during an outage waits with them, in order,
 * until the connection is back. The inspector's outbox has none: its snapshots are a live view, and many, and held
 * they would crowd out the replies within the hold's bound.
 *
 * An event larger than the server's `max_payload` cannot be published; nats.js would throw on the publish, and
 * the event would be gone with a library error in the log. It is caught when it is queued instead: the publisher
 * may give a smaller event that stands for it ({@link OversizeEvent}), otherwise the node is told of a typed
 * {@link PayloadTooLargeError} naming the subject and both sizes. A publisher whose events are often large (the
 * inspector's snapshots) also says how to measure one without encoding it ({@link EventSize}): an event over the
 * limit is then never encoded whole only to be thrown away.
 * @module
 */
import type { NatsConnection } from 'nats';
import { PayloadTooLargeError } from '../errors.js';
import type { HeldOutput } from './held-output.js';
import { createPayloadLimit, type PayloadLimit } from './payload-limit.js';
import { safeReport } from './safe-report.js';
import { encodeJson } from './wire.js';

/**
 * Builds the event sent instead of one of `size` bytes that is over the server's `limit`, or `undefined` when
 * nothing can stand for it. The substitute must itself fit, or it is dropped and reported too.
 */
export type OversizeEvent = (size: number, limit: number) => object | undefined;

/**
 * The size in bytes of an event's JSON, computed more cheaply than by encoding it (see `jsonBytes`). The outbox
 * trusts it only to skip encoding what is over the limit: what it does encode is still checked.
 */
export type EventSize = (event: object) => number;

/** Events waiting to be published. */
export interface EventOutbox {
  /**
   * Encodes `event` as JSON now (a listener or caller changing the object afterwards changes nothing on the
   * wire) and queues it for `subject`; dropped if the connection is closed for good by the time it is sent (one held
   * through an outage that the close finds still held is told by the held output, as `held_output_dropped`). An event
   * over the server's `max_payload` is replaced by what `oversize` builds, or else reported and dropped. With
   * `size`, the event and its substitute are measured first, and encoded only if they fit.
   */
  publish(subject: string, event: object, oversize?: OversizeEvent, size?: EventSize): void;
  /**
   * Queues an event already encoded as JSON, for one that goes out alike many times (a module's state changes):
   * encoding it once spares every execution the work. `data` must not change afterwards. One over the server's
   * `max_payload` is reported and dropped.
   */
  publishEncoded(subject: string, data: Uint8Array): void;
  /**
   * The largest event the server takes, in bytes (its `max_payload`, which a reconnect may change; while the
   * connection is down, the last one announced: what is sized then is held, to go once it is back).
   */
  limit(): number;
  /**
   * Publishes everything queued, now (nats.js sends it with whatever is published next in this microtask), or,
   * while the connection is down, holds it with the replies due before it.
   */
  sendNow(): void;
  /** Resolves once everything queued so far has been handed to the connection. */
  flushed(): Promise<void>;
}

/**
 * An outbox on `connection`; `report` is told of an event that could not be published, with its subject. With
 * `output`, what is sent while the connection is down is held with the node's replies until it is back. `limit` is
 * the node's one reading of the server's `max_payload` (see payload-limit.ts).
 */
export function createEventOutbox(
  connection: NatsConnection,
  report: (error: unknown, where: string) => void,
  output?: HeldOutput,
  limit: PayloadLimit = createPayloadLimit(connection),
): EventOutbox {
  let queue: { subject: string; data: Uint8Array }[] = [];
  let scheduled: Promise<void> | undefined;

  // A failing reporter must not lose the other events nor leave `flushed()` pending.
  const tell = safeReport(report);

  const sendNow = (): void => {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    // Closed for good before they went (a stopped node's last events): nobody is left to hear them, nor to tell.
    if (connection.isClosed()) return;
    for (const { subject, data } of batch) {
      const publish = (): void => connection.publish(subject, data);
      try {
        // One by one: an event held through an outage that fails once sent (its connection closed for good
        // meanwhile) throws to the held output, which counts it with the others that failed and tells them at once.
        if (output === undefined) publish();
        else output.send(publish, data.length);
      } catch (error) {
        tell(error, `publishing an event on ${subject}`);
      }
    }
  };

  const enqueue = (subject: string, data: Uint8Array): void => {
    queue.push({ subject, data });
    scheduled ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        scheduled = undefined;
        sendNow();
        resolve();
      }),
    );
  };

  return {
    publish(subject, event, oversize, size) {
      let data: Uint8Array;
      try {
        const max = limit();
        // Measured over the limit, the event goes straight to its substitute without being encoded.
        const measured = size?.(event);
        const full = measured !== undefined && measured > max ? undefined : encodeJson(event);
        if (full !== undefined && full.length <= max) data = full;
        else {
          const bytes = full?.length ?? measured ?? 0;
          const substitute = oversize?.(bytes, max);
          const fits = substitute !== undefined && (size === undefined || size(substitute) <= max);
          const smaller = fits ? encodeJson(substitute) : undefined;
          if (smaller === undefined || smaller.length > max) {
            return tell(new PayloadTooLargeError(`event on ${subject}`, bytes, max), 'publishing an event');
          }
          data = smaller;
        }
      } catch (error) {
        return tell(error, `encoding an event for ${subject}`);
      }
      enqueue(subject, data);
    },
    publishEncoded(subject, data) {
      const max = limit();
      if (data.length > max)
        return tell(new PayloadTooLargeError(`event on ${subject}`, data.length, max), 'publishing an event');
      enqueue(subject, data);
    },
    limit,
    sendNow,
    flushed: () => scheduled ?? Promise.resolve(),
  };
}
