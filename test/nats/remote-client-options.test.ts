import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError, subscribeEvents } from '../../src/index.js';
import { connect } from '../../src/nats/remote-client.js';
import { startSilentServer } from '../support/silent-server.js';

// Nothing listens on port 1: a check that let `connect` try would fail as unreachable, not as validation.
const NOWHERE = 'nats://127.0.0.1:1';
/** What a refusal of a name holding a control character says a name must be. */
const ONE_LINE = 'a connection name is one line of text, without control characters or line breaks';

describe('remote client options', () => {
  it('refuses a bag that is no object, as Runtime.start refuses its own, before connecting', async () => {
    for (const options of [null, NOWHERE, []]) {
      await expect(connect(options as never), JSON.stringify(options)).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^connect options must be an object, got (null|a string|an array)$/),
      });
    }
  });

  it('refuses a timeout or ping interval a timer cannot wait, naming it, before connecting', async () => {
    for (const [field, value] of [
      ['timeoutMs', 0],
      ['timeoutMs', 1.5],
      ['connectTimeoutMs', -1],
      ['connectTimeoutMs', 2 ** 31],
      ['pingIntervalMs', 0],
      ['pingIntervalMs', 2 ** 31],
      ['pingIntervalMs', '1000'],
    ] as const) {
      const shown = typeof value === 'string' ? `"${value}"` : value;
      await expect(connect({ servers: NOWHERE, [field]: value } as never), `${field} ${value}`).rejects.toMatchObject({
        code: 'validation_failed',
        message: `${field} must be a whole number of milliseconds from 1 to 2147483647, got ${shown}`,
        details: { field },
      });
    }
  });

  it('refuses a name or credentials that are no strings, and a name too long to send, before connecting', async () => {
    // The server closed such a connection, and the caller heard "cannot connect ... TIMEOUT" 20 s later.
    for (const [field, value, got] of [
      ['name', 5, 'number'],
      ['user', {}, 'object'],
      ['pass', null, 'null'],
      ['token', 5, 'number'],
    ] as const) {
      const options = { servers: NOWHERE, [field]: value };
      for (const attempt of [connect(options as never), Runtime.start({ nats: options as never })]) {
        await expect(attempt, field).rejects.toMatchObject({
          code: 'validation_failed',
          message: expect.stringMatching(new RegExp(`^(connect|nats) option '${field}' must be a string, got ${got}$`)),
          details: { field, constraint: 'type' },
        });
      }
    }
    // The name measured as the server reads it: JSON, in bytes (a quote takes 2). Credentials are the server's to
    // judge (one that raised its limit takes long tokens).
    for (const name of ['n'.repeat(1025), '"'.repeat(513)])
      await expect(connect({ servers: NOWHERE, name }), name.slice(0, 4)).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(
          /^connect option 'name' takes 10\d\d bytes as the server reads it \(JSON\); at most 1024$/,
        ),
        details: { field: 'name', constraint: 'maxBytes', maxBytes: 1024 },
      });
    await expect(connect({ servers: NOWHERE, name: 'é'.repeat(512), token: 't'.repeat(8000) })).rejects.toMatchObject({
      code: 'nats_connection',
    });
  });

  it('refuses an empty name, or one holding a line break or another control character, before connecting', async () => {
    // Such a name split the one line `tether serve` starts with and the inspect feed's node name, or was invisible.
    const cases: [string, string, Record<string, unknown>][] = [
      ['', 'must not be empty', { constraint: 'minLength', minLength: 1 }],
      ['node\n1', 'holds U+000A at character 5', { constraint: 'printable', character: 'U+000A', position: 5 }],
      ['\u{1F600}\u001b[31m', 'holds U+001B at character 2', { constraint: 'printable', position: 2 }],
      ['a\u0085', 'holds U+0085 at character 2', { constraint: 'printable', character: 'U+0085' }],
      ['a\u2028b', 'holds U+2028 at character 2', { constraint: 'printable', character: 'U+2028' }],
      ['\u007f', 'holds U+007F at character 1', { constraint: 'printable', character: 'U+007F' }],
    ];
    // A server that takes connections and never answers: it counts any connection a refusal would have opened.
    const server = await startSilentServer();
    try {
      const settings = { servers: server.url, connectTimeoutMs: 200 };
      for (const [name, reason, details] of cases) {
        const attempts: [string, () => Promise<unknown>][] = [
          ['connect', () => connect({ ...settings, name })],
          ['nats', () => Runtime.start({ nats: { ...settings, name } })],
          ['subscribeEvents', () => subscribeEvents({ ...settings, name }, () => {})],
        ];
        for (const [owner, attempt] of attempts) {
          const error = await attempt().catch((e: unknown) => e);
          expect(error, `${owner} ${JSON.stringify(name)}`).toBeInstanceOf(ValidationError);
          expect(error).toMatchObject({ code: 'validation_failed', details: { field: 'name', ...details } });
          const rule = reason.startsWith('holds') ? `: ${ONE_LINE}` : '';
          expect((error as Error).message).toBe(`${owner} option 'name' ${reason}${rule}`);
        }
      }
      expect(server.connections()).toBe(0);
      // Printable text beyond ASCII is a name, and goes on to connect (and time out on this server).
      await expect(connect({ ...settings, name: 'nœud 1 \u{1F600}' })).rejects.toMatchObject({
        code: 'nats_connection',
      });
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('subscribeEvents refuses a listener or onError that is no function, before connecting', async () => {
    // Taken, the subscription ran and every event threw a TypeError at the reporter, far from the call that gave it.
    const server = await startSilentServer();
    try {
      const settings = { servers: server.url, connectTimeoutMs: 200 };
      for (const [listener, got] of [
        [undefined, 'undefined'],
        [5, 'number'],
        [{ next: () => {} }, 'object'],
      ] as const) {
        const error = await subscribeEvents(settings, listener as never).catch((e: unknown) => e);
        expect(error, got).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({
          code: 'validation_failed',
          message: `subscribeEvents needs a listener function, got ${got}`,
          details: { field: 'listener', got },
        });
      }
      await expect(subscribeEvents({ ...settings, onError: 'log' } as never, () => {})).rejects.toMatchObject({
        code: 'validation_failed',
        message: "subscribeEvents option 'onError' must be a function, got a string",
        details: { option: 'onError' },
      });
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a server URL of another scheme than nats:// or tls://, before connecting, credentials left out', async () => {
    for (const servers of ['http://me:pw@127.0.0.1:1', ['nats://127.0.0.1:1', 'ws://127.0.0.1:1']]) {
      const error = await connect({ servers }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ details: { field: 'servers', constraint: 'scheme' } });
      expect((error as Error).message).toMatch(
        /^servers: '(http|ws):\/\/127\.0\.0\.1:1' is a (http|ws):\/\/ URL: use nats:\/\/, or tls:\/\/ to require TLS$/,
      );
    }
  });
  // A password holding a `/` (or a `@`) unescaped ends the URL's authority early: no parser finds its credentials, and
  // the whole URL, password included, was the server named in the NatsConnectionError ("cannot connect to NATS
  // (nats://alice:pa/ss@127.0.0.1:1); Invalid URL"), in its cause, and in the scheme refusal. The CLI refused it.
  it('refuses a server URL nats.js cannot read, before connecting, and shows nothing of it up to its last @', async () => {
    const secret = 'Pw0rd-SECRET';
    for (const [servers, shown] of [
      [`nats://alice:${secret}/x@127.0.0.1:1`, 'nats://127.0.0.1:1'],
      [['nats://127.0.0.1:1', `alice:${secret}/x@127.0.0.1:1`], '127.0.0.1:1'],
      [`http://alice:${secret}/x@127.0.0.1:1`, 'http://127.0.0.1:1'],
    ] as const) {
      for (const [name, start] of [
        ['connect', () => connect({ servers, connectTimeoutMs: 500 })],
        ['Runtime.start', () => Runtime.start({ nats: { servers, connectTimeoutMs: 500 } })],
        ['subscribeEvents', () => subscribeEvents({ servers, connectTimeoutMs: 500 }, () => {})],
      ] as const) {
        const error = await start().then(
          () => undefined,
          (e: unknown) => e,
        );
        const said = `${name} ${JSON.stringify(servers)}`;
        expect(error, said).toBeInstanceOf(ValidationError);
        expect((error as Error).message, said).toContain(`'${shown}'`);
        expect(`${inspect(error, { depth: 8 })} ${JSON.stringify(error)}`, said).not.toContain(secret);
        // A nats:// one is refused as no URL, saying what one looks like; another scheme as the scheme refusal above.
        if (!shown.startsWith('http'))
          expect(error, said).toMatchObject({
            message: `servers: '${shown}' is no server URL ([nats://][user:pass@]host[:port])`,
            details: { field: 'servers', constraint: 'url' },
          });
      }
    }
  });

  it('refuses servers that name no server, which nats.js would take for 127.0.0.1:4222, before connecting', async () => {
    for (const [servers, got] of [
      [undefined, 'undefined'],
      ['', '""'],
      [[], 'an array'],
      [['nats://127.0.0.1:1', ''], 'an array'],
      [4222, '4222'],
    ] as const) {
      const error = await connect({ servers } as never).catch((e: unknown) => e);
      expect(error, String(servers)).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        message: `connect needs servers: a server URL or a list of them, got ${got}`,
        details: { field: 'servers', constraint: 'type' },
      });
    }
    // A node checks its own the same way.
    await expect(Runtime.start({ nats: { servers: [] } })).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'nats needs servers: a server URL or a list of them, got an array',
    });
  });
});
