/**
 * A request sent as any NATS client in any language would send it: raw JSON, from an inbox of its own, with the
 * header names spelled out as documented. Every message answering it (an acceptance notice as well as the reply)
 * is collected, which a plain `request` would not show.
 * @module
 */
import { createInbox, headers, type Msg, type NatsConnection } from 'nats';
import { onTestFinished } from 'vitest';

const encoder = new TextEncoder();

/** Publishes `body` to `subject` (asking for an acceptance notice when `withNotice`); returns what answers it, as it comes. */
export function rawRequest(nc: NatsConnection, subject: string, body: object, withNotice = false): Msg[] {
  const inbox = createInbox();
  const received: Msg[] = [];
  const subscription = nc.subscribe(inbox, { callback: (_error, msg) => received.push(msg) });
  onTestFinished(() => subscription.unsubscribe());
  const h = headers();
  if (withNotice) h.set('Tether-Accept-Notice', '1');
  nc.publish(subject, encoder.encode(JSON.stringify(body)), { reply: inbox, headers: h });
  return received;
}

/** Whether `msg` is an acceptance notice rather than a reply. */
export const isNotice = (msg: Msg): boolean => msg.headers?.has('Tether-Accepted-By') ?? false;

/**
 * A plain request/reply as any NATS client sends it, the payload as given (a string is sent as its UTF-8 bytes):
 * the reply's JSON body and its micro error headers (`''` when it is no error).
 */
export async function rawReply(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array | string,
  header?: [string, string],
): Promise<{ body: Record<string, any>; errorCode: string; error: string }> {
  const h = headers();
  if (header) h.set(header[0], header[1]);
  const data = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const reply = await nc.request(subject, data, { timeout: 5000, headers: h });
  return {
    body: reply.json<Record<string, any>>(),
    errorCode: reply.headers?.get('Nats-Service-Error-Code') ?? '',
    error: reply.headers?.get('Nats-Service-Error') ?? '',
  };
}
