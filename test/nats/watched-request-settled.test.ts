import { headers, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import type { OutcomeAnswer } from '../../src/nats/lost-reply-recovery.js';
import type { ReplyInbox } from '../../src/nats/reply-inbox.js';
import { watchedRequest } from '../../src/nats/watched-request.js';
import { manualLink } from '../support/manual-link.js';

describe('a watched request whose wait has ended', () => {
  it('starts no watch when its question to every node is answered afterwards', async () => {
    const { link, listeners, bounce } = manualLink();
    const pinged: string[] = [];
    const connection = {
      publish() {},
      request(subject: string) {
        pinged.push(subject);
        return Promise.resolve({});
      },
    } as unknown as NatsConnection;
    const inbox = { open: () => ({ subject: '_INBOX.test', close() {} }) } as unknown as ReplyInbox;
    let answer!: (outcome: OutcomeAnswer) => void;
    const asked = new Promise<OutcomeAnswer>((resolve) => (answer = resolve));
    const abort = new AbortController();
    const waiting = watchedRequest(connection, inbox, 'tether.v1.session.s.module.m.execute', new Uint8Array(), {
      headers: headers(),
      timeoutMs: 60_000,
      signal: abort.signal,
      link,
      askOutcome: () => asked,
    });
    // Back after a drop, the request asks every node; it is aborted while the question is out.
    bounce();
    abort.abort();
    expect(await waiting).toEqual({ kind: 'aborted' });
    expect(listeners.size).toBe(0);

    answer({ kind: 'running', nodeId: 'NODE0123456789abcdefgh' });
    await new Promise((resolve) => setImmediate(resolve));
    // A watch started now would listen to the link and ping the node every 2 s, with nobody to stop it.
    expect(listeners.size).toBe(0);
  });
});
