/**
 * The largest message the node's server takes (its `max_payload`), as the server last announced it. nats.js empties
 * `connection.info` at every attempt to dial again while the connection is down, so a check made then, of a reply or
 * an event due during an outage and held until the connection is back, would fall back to the default 1 MiB: on a
 * server that takes more, an execution's large result would fail with `payload_too_large` for no other reason than
 * the outage. Read here instead, the limit is the one of the server the node was last connected to. It is read
 * again at every call while connected: a reconnect to another server that announces another limit is followed at
 * once (what was held under the old one and does not fit the new one fails as it is sent, and is reported).
 * @module
 */
import type { NatsConnection } from 'nats';
import { DEFAULT_MAX_PAYLOAD } from './wire.js';

/** The server's `max_payload` in bytes: now, or, while the connection is down, as last announced. */
export type PayloadLimit = () => number;

/**
 * Follows the `max_payload` that `connection`'s server announces; one per node, shared by everything that sizes what
 * the node sends (replies, events, paged reads).
 * @example
 * const limit = createPayloadLimit(nc);
 * if (reply.length > limit()) throw new PayloadTooLargeError('reply', reply.length, limit());
 */
export function createPayloadLimit(connection: Pick<NatsConnection, 'info'>): PayloadLimit {
  let last = connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  return () => {
    const announced = connection.info?.max_payload;
    if (announced !== undefined) last = announced;
    return last;
  };
}
