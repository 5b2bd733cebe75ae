/**
 * A stand-in for the members of a NATS connection an event outbox uses (see src/nats/event-outbox.ts), recording what
 * is published as parsed JSON.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { ClosingConnection } from '../../src/nats/held-output.js';

/**
 * The members of a connection the outbox uses, recording what was published; closed by its own `close`, or by that
 * of `closing` when given. Once closed, a publish throws, as nats.js's does.
 */
export function fakeConnection(options: { failOn?: string; maxPayload?: number; closing?: ClosingConnection } = {}) {
  const published: { subject: string; body: unknown }[] = [];
  let closed = false;
  const isClosed = () => closed || (options.closing?.isClosed() ?? false);
  const connection = {
    info: options.maxPayload === undefined ? undefined : { max_payload: options.maxPayload },
    isClosed,
    publish(subject: string, data: Uint8Array) {
      if (isClosed()) throw new Error('CONNECTION_CLOSED');
      if (subject === options.failOn) throw new Error(`cannot publish on ${subject}`);
      published.push({ subject, body: JSON.parse(new TextDecoder().decode(data)) });
    },
  } as unknown as NatsConnection;
  return { connection, published, close: () => (closed = true) };
}
