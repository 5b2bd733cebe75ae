import type { MsgHdrs, NatsConnection } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeldOutputDroppedError } from '../../src/errors.js';
import { createAcceptanceNotices } from '../../src/nats/acceptance-notices.js';
import { createHeldOutput } from '../../src/nats/held-output.js';
import { ACCEPTED_BY_HEADER, ANSWER_WITHIN_HEADER, LATE_NOTICE_MS } from '../../src/nats/wire.js';
import { closingConnection } from '../support/closing-connection.js';
import { manualLink } from '../support/manual-link.js';

const ANSWER_WITHIN_MS = 20_000;

/**
 * A node's notices on a connection that records what is published, behind a link the test drops by hand, until
 * `close` closes it for good (a publish then throws, as nats.js's does); what the node reports is in `reported`.
 */
function notices() {
  const published: { reply: string; headers: MsgHdrs | undefined }[] = [];
  const closing = closingConnection();
  const connection = {
    isClosed: closing.connection.isClosed,
    publish: (reply: string, _data: Uint8Array, options?: { headers?: MsgHdrs }) => {
      if (closing.connection.isClosed()) throw new Error('CONNECTION_CLOSED');
      published.push({ reply, headers: options?.headers });
    },
  } as unknown as NatsConnection;
  const { link, drop, back } = manualLink();
  const reported: unknown[] = [];
  const report = (error: unknown) => void reported.push(error);
  const output = createHeldOutput(link, report, closing.connection);
  const node = createAcceptanceNotices(connection, 'node-1', ANSWER_WITHIN_MS, report, output);
  const close = async () => {
    closing.close();
    await closing.connection.closed();
  };
  return { node, published, reported, drop, back, close };
}

describe('acceptance notices', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  it('sends a late notice saying how long the node may yet take, counted from when the request was taken', () => {
    const { node, published } = notices();
    node.taken({ reply: '_INBOX.a' });
    vi.advanceTimersByTime(LATE_NOTICE_MS);

    expect(published).toHaveLength(1);
    expect(published[0]!.reply).toBe('_INBOX.a');
    expect(published[0]!.headers?.get(ACCEPTED_BY_HEADER)).toBe('node-1');
    expect(published[0]!.headers?.get(ANSWER_WITHIN_HEADER)).toBe(String(ANSWER_WITHIN_MS - LATE_NOTICE_MS));
  });

  it('says what is left as the notice leaves, when it was held while the connection was down', () => {
    const { node, published, drop, back } = notices();
    node.taken({ reply: '_INBOX.a' });
    drop();
    vi.advanceTimersByTime(LATE_NOTICE_MS);
    expect(published).toHaveLength(0);
    vi.advanceTimersByTime(3000);
    back();

    expect(published).toHaveLength(1);
    // Not what was left when it fell due: the caller would wait 3 s past the node's own bound.
    expect(published[0]!.headers?.get(ANSWER_WITHIN_HEADER)).toBe(String(ANSWER_WITHIN_MS - LATE_NOTICE_MS - 3000));
  });

  it('sends no late notice for a request answered before it fell due', () => {
    const { node, published } = notices();
    const request = { reply: '_INBOX.a' };
    node.taken(request);
    node.replied(request);
    vi.advanceTimersByTime(LATE_NOTICE_MS * 2);
    expect(published).toEqual([]);
  });

  // Found by a review: a held notice lost as the connection closed was told on its own, or not at all.
  it('tells onError of a notice it held, as held_output_dropped, when the connection closes for good', async () => {
    const { node, published, reported, drop, close } = notices();
    node.taken({ reply: '_INBOX.a' });
    drop();
    vi.advanceTimersByTime(LATE_NOTICE_MS);
    await close();

    expect(published).toEqual([]);
    expect(reported).toEqual([expect.any(HeldOutputDroppedError)]);
    expect(reported[0]).toMatchObject({ details: { count: 1, reason: 'send_failed', when: 'closed' } });
  });
});
