/**
 * A NATS client as small as one written from the protocol spec in another language: a TCP socket that sends
 * CONNECT with headers on, subscribes to an inbox and publishes a request with a header block given byte for byte,
 * which nats.js would refuse to build (a header name with a space, a name outside ASCII).
 * @module
 */
import { connect } from 'node:net';
import { onTestFinished } from 'vitest';

/** One answer as the wire carried it: its header block (`''` for a plain MSG) and its body. */
export interface RawMessage {
  readonly header: string;
  readonly body: string;
}

/**
 * Publishes `body` to `subject` with `headerBlock` (`NATS/1.0\r\n...\r\n\r\n`, sent as given) and a reply inbox,
 * and resolves to the first message on that inbox, or rejects after `withinMs`.
 */
export function rawSocketRequest(
  url: string,
  subject: string,
  headerBlock: string,
  body: string,
  withinMs = 5000,
): Promise<RawMessage> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  onTestFinished(() => void socket.destroy());
  const inbox = `_INBOX.raw${Date.now()}`;
  const header = Buffer.from(headerBlock);
  const data = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer on ${subject} within ${withinMs} ms`)), withinMs);
    let received = Buffer.alloc(0);
    let greeted = false;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!greeted && received.includes('\r\n')) {
        greeted = true;
        socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n');
        socket.write(`SUB ${inbox} 1\r\n`);
        socket.write(`HPUB ${subject} ${inbox} ${header.length} ${header.length + data.length}\r\n`);
        socket.write(Buffer.concat([header, data, Buffer.from('\r\n')]));
      }
      const at = received.indexOf(`MSG ${inbox} `);
      if (at < 0) return;
      const eol = received.indexOf('\r\n', at);
      if (eol < 0) return;
      const words = received.subarray(at, eol).toString().split(' ');
      const total = Number(words[words.length - 1]);
      // Found as `MSG <inbox>`: an HMSG is one byte earlier, and has its header length before the total.
      const headerLength = received[at - 1] === 0x48 ? Number(words[words.length - 2]) : 0;
      const start = eol + 2;
      if (received.length < start + total) return;
      clearTimeout(timer);
      resolve({
        header: received.subarray(start, start + headerLength).toString('latin1'),
        body: received.subarray(start + headerLength, start + total).toString(),
      });
    });
  });
}
