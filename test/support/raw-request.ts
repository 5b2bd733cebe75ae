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

/** What {@link rawAnswer} got: the reply (after `notices` acceptance notices), a no-responders status, or nothing. */
export type RawAnswer =
  | { readonly kind: 'reply'; readonly msg: Msg; readonly notices: number }
  | { readonly kind: 'noresponders' | 'timeout'; readonly notices: number };

/**
 * Publishes these exact bytes and headers (a header may repeat) from an inbox of its own and waits up to `withinMs`
 * for the reply, counting the acceptance notices before it; an outcome answer, which also names its node in
 * `Tether-Accepted-By`, is a reply. Never throws: a fuzzer wants every answer, a missing one included.
 */
export function rawAnswer(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  headerPairs: readonly (readonly [string, string])[],
  withinMs: number,
): Promise<RawAnswer> {
  const inbox = createInbox();
  const h = headers();
  for (const [name, value] of headerPairs) h.append(name, value);
  let notices = 0;
  return new Promise((resolve) => {
    const settle = (answer: RawAnswer): void => {
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout', notices }), withinMs);
    const subscription = nc.subscribe(inbox, {
      callback: (_error, msg) => {
        if (isNotice(msg) && !msg.headers?.has('Tether-Execution-Outcome')) {
          notices += 1;
          return;
        }
        const noResponders = msg.data.length === 0 && msg.headers?.code === 503;
        settle(noResponders ? { kind: 'noresponders', notices } : { kind: 'reply', msg, notices });
      },
    });
    nc.publish(subject, data, { reply: inbox, headers: h });
  });
}
