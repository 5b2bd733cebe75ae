/**
 * A bench whose own operation throws before it awaits the peer's answer must fail on that operation's error: the
 * answer it no longer waits for, rejected when the peer stops, must not end the run as an unhandled rejection that
 * hides it (found in review).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer } from '../../bench/peer.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

describe('bench peer answers', () => {
  it('an answer nobody awaits any more rejects without an unhandled rejection when the peer stops', async () => {
    const peer = await startPeer(
      'module-node',
      {
        url: server.url,
        variablesBucket: 'unawaited_vars',
        sessionsBucket: 'unawaited_sessions',
        modulesBucket: 'unawaited_modules',
        rawSubject: 'unawaited.echo',
        rawAxSubject: 'unawaited.ax',
        signature: 'question:string -> answer:string',
      },
      'process',
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // As a bench does when its operation throws: the answer is asked for, and then never awaited.
      const abandoned = peer.next('never-sent');
      await peer.stop();
      await sleep(50);
      expect(unhandled).toEqual([]);
      await expect(abandoned).rejects.toThrow(/exited/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 30_000);
});
