import { describe, expect, it } from 'vitest';
import { errorLine, exitCodeOf } from '../src/cli/cli-errors.js';
import {
  DEFAULT_NATS_URL,
  natsPrefix,
  natsServers,
  natsTarget,
  pingInterval,
  reconnectPolicy,
} from '../src/cli/connection.js';
import { NatsConnectionError } from '../src/errors.js';
import { startSilentServer } from './support/silent-server.js';
import { cli } from './support/cli-in-process.js';

describe('cli', () => {
  it('takes a URL nats.js reads as a server: with or without a scheme, several, IPv6', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    expect(natsServers({ nats: 'nats://127.0.0.1:4222, demo.nats.io,tls://[::1]:4222' }, io({}))).toEqual([
      'nats://127.0.0.1:4222',
      'demo.nats.io',
      'tls://[::1]:4222',
    ]);
    expect(natsServers({}, io({ NATS_URL: '127.0.0.1:4222' }))).toEqual(['127.0.0.1:4222']);
    expect(() => natsServers({}, io({ NATS_URL: 'nats://' }))).toThrow(/NATS_URL holds no valid URL: 'nats:\/\/'/);
    // Found by mutation: only commas and blanks name no server, and the refusal named --nats when NATS_URL held them.
    expect(() => natsServers({}, io({ NATS_URL: ' , ' }))).toThrow(/^NATS_URL names no server$/);
    expect(() => natsServers({ nats: ',' }, io({ NATS_URL: '127.0.0.1:4222' }))).toThrow(/^--nats names no server$/);
    // An empty variable is unset, as TETHER_SESSION's is: the default server, the default prefix.
    expect(natsServers({}, io({ NATS_URL: '' }))).toEqual([DEFAULT_NATS_URL]);
    expect(natsPrefix({}, io({ TETHER_PREFIX: '' }))).toBeUndefined();
  });

  it('takes NATS credentials from NATS_USER/NATS_PASSWORD or NATS_TOKEN, else from the URL, which it strips', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    const url = { nats: 'nats://al%40x:s3:cr@127.0.0.1:4222,nats://127.0.0.1:4223' };
    expect(natsTarget(url, io({}))).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      credentials: { user: 'al@x', pass: 's3:cr' },
    });
    expect(natsTarget({ nats: 'tok@127.0.0.1:4222' }, io({})).credentials).toEqual({ token: 'tok' });
    expect(natsTarget(url, io({ NATS_USER: 'u', NATS_PASSWORD: 'p' })).credentials).toEqual({ user: 'u', pass: 'p' });
    expect(natsTarget({ nats: 'h:4222' }, io({ NATS_TOKEN: 't' })).credentials).toEqual({ token: 't' });
    expect(natsTarget({ nats: 'old@h:4222' }, io({ NATS_TOKEN: 't' })).credentials).toEqual({ token: 't' });
    expect(natsTarget({}, io({})).credentials).toEqual({});
    // A password may hold an '@' (URL parsers split at the last one); each variable wins over its own part only.
    expect(natsTarget({ nats: 'nats://al:p@ss@127.0.0.1:4222' }, io({}))).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      credentials: { user: 'al', pass: 'p@ss' },
    });
    expect(natsTarget({ nats: 'al@h:4222' }, io({ NATS_PASSWORD: 'pw' })).credentials).toEqual({
      user: 'al',
      pass: 'pw',
    });
    expect(natsTarget({ nats: 'al:pw@h:4222' }, io({ NATS_USER: 'bo' })).credentials).toEqual({
      user: 'bo',
      pass: 'pw',
    });
    expect(() => natsTarget({ nats: 'h:4222' }, io({ NATS_PASSWORD: 'pw' }))).toThrow(/NATS_PASSWORD needs a user/);
    // A URL refused as malformed is quoted without anything up to its last '@'.
    expect(() => natsTarget({ nats: 'nats://al:p/ss@h:notaport' }, io({}))).toThrow(
      /--nats holds no valid URL: 'nats:\/\/h:notaport'$/,
    );
  });

  it('gives up connecting within its timeout on a server that takes the connection and never answers (exit 3)', async () => {
    const silent = await startSilentServer();
    try {
      // 5 s, the default: not nats.js's 20 s (the test's own timeout), for one-shot and long-running commands alike.
      const [get, events, serve] = await Promise.all([
        cli('var', 'get', 'x', '-s', 'a', '--nats', silent.url),
        cli('events', '--nats', silent.url),
        cli('serve', '--nats', silent.url),
      ]);
      expect([get.code, get.stderr]).toEqual([
        3,
        `tether: nats_unreachable: cannot reach NATS at ${silent.url} (TIMEOUT)\n`,
      ]);
      expect([events.code, events.stderr]).toEqual([
        3,
        `tether: nats_unreachable: cannot reach NATS at ${silent.url} (TIMEOUT)\n`,
      ]);
      expect(serve.code).toBe(3);
      expect(serve.stderr).toMatch(
        new RegExp(`^tether: nats_unreachable: cannot start a node on NATS at ${silent.url}: .*TIMEOUT`),
      );
      expect(serve.stderr.split('\n')).toHaveLength(2);
    } finally {
      await silent.close();
    }
  }, 15_000);

  it('exits 3 for a NATS connection lost under a request, as for one that cannot be reached', () => {
    const lost = new NatsConnectionError(
      'disconnected',
      '127.0.0.1:4222',
      "request to 'tether.v1.session.s.set' got no reply",
    );
    expect(exitCodeOf(lost)).toBe(3);
    expect(errorLine(lost)).toMatch(/^tether: nats_connection: /);
  });

  it('retries a lost connection for ever unless TETHER_MAX_RECONNECTS bounds it', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    expect(reconnectPolicy(io({}), ['events'])).toEqual({});
    // An empty variable is unset, as NATS_URL's is.
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '', TETHER_RECONNECT_WAIT_MS: '' }), ['events'])).toEqual({});
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '-1' }), ['events'])).toEqual({});
    expect(reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '3', TETHER_RECONNECT_WAIT_MS: '250' }), ['events'])).toEqual({
      maxAttempts: 3,
      waitMs: 250,
    });
    expect(() => reconnectPolicy(io({ TETHER_RECONNECT_WAIT_MS: 'soon' }), ['events'])).toThrow(
      /TETHER_RECONNECT_WAIT_MS must be a whole number/,
    );
    // Found in review: -2 was refused as "must be a whole number", which it is; only -1 or 0 and more are taken.
    expect(() => reconnectPolicy(io({ TETHER_MAX_RECONNECTS: '-2' }), ['events'])).toThrow(
      "TETHER_MAX_RECONNECTS must be -1 (for ever) or a whole number from 0 to 9007199254740991, got '-2'",
    );
  });

  it('pings NATS as often as TETHER_PING_INTERVAL_MS says, else as nats.js does', () => {
    const io = (env: Record<string, string>) => ({ out: () => {}, err: () => {}, env });
    expect(pingInterval(io({}), ['serve'])).toEqual({});
    expect(pingInterval(io({ TETHER_PING_INTERVAL_MS: '' }), ['serve'])).toEqual({});
    expect(pingInterval(io({ TETHER_PING_INTERVAL_MS: '5000' }), ['serve'])).toEqual({ pingIntervalMs: 5000 });
    for (const text of ['0', 'often', '2147483648'])
      expect(() => pingInterval(io({ TETHER_PING_INTERVAL_MS: text }), ['serve']), text).toThrow(
        expect.objectContaining({ message: expect.stringMatching(/^TETHER_PING_INTERVAL_MS must be a whole number/) }),
      );
  });
});
