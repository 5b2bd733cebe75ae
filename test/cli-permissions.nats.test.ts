/**
 * The CLI as a NATS user whose permissions refuse it a subject it needs (a read-only or monitoring account): each
 * command fails at once with one line naming the refusal, exit 3, rather than wait out its timeout (a write) or
 * claim to listen and wait for ever (events, var watch). Found in review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { runCliProcess } from './support/cli-process.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';

let server: NatsTestServer;
let node: Runtime;
let url: (user: string) => string;

beforeAll(async () => {
  server = await startNatsServer({
    config: [
      'authorization { users: [',
      '  { user: admin, password: admin }',
      '  { user: ro, password: ro, permissions: {',
      '      publish: { deny: ["tether.v1.session.*.var.set"] },',
      '      subscribe: { deny: ["tether.v1.events.>"] } } }',
      '] }',
    ].join('\n'),
  });
  const { port } = new URL(server.url);
  url = (user) => `nats://${user}:${user}@127.0.0.1:${port}`;
  node = await Runtime.start({
    onError: () => {},
    nats: {
      servers: server.url,
      user: 'admin',
      pass: 'admin',
      variablesBucket: 'cli_perm_vars',
      sessionsBucket: 'cli_perm_sessions',
      modulesBucket: 'cli_perm_modules',
    },
  });
  await (await node.session('perm-1')).defineVariable('a', 'integer', 1);
}, 30_000);

afterAll(async () => {
  await node?.stop();
  await server?.stop();
});

/** The lines of `text`, without the last newline. */
const lines = (text: string): string[] => text.trimEnd().split('\n');

describe('a command the server refuses a subscription', () => {
  it('tether events exits 3 with one line naming the subject, never saying it listens', async () => {
    const run = await runCliProcess(['events'], { NATS_URL: url('ro') });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        /^tether: nats_connection: refused by NATS permissions \(.+\); events subscription tether\.v1\.events\.> refused: Permissions Violation for Subscription to "tether\.v1\.events\.>"$/,
      ),
    ]);
    expect(run.stdout).toBe('');
  }, 30_000);

  it('tether var watch exits 3 with one line, never saying it watches', async () => {
    const run = await runCliProcess(['var', 'watch', '-s', 'perm-1'], { NATS_URL: url('ro') });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        /^tether: nats_connection: refused by NATS permissions \(.+\); watch of '\*' in session 'perm-1' refused: Permissions Violation for Subscription to "tether\.v1\.events\.perm-1\.var\.\*"$/,
      ),
    ]);
  }, 30_000);
});

describe('a write the server refuses to publish', () => {
  it('var set exits 3 at once with one line saying it was not sent, and the value stays', async () => {
    // A timeout longer than the test's: a write that waited for it would fail the test by its own timeout.
    const run = await runCliProcess(['var', 'set', 'a', '2', '-s', 'perm-1', '--timeout', '120000'], {
      NATS_URL: url('ro'),
    });
    expect(run.code).toBe(3);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        /^tether: nats_connection: refused by NATS permissions \(.+\); request to 'tether\.v1\.session\.perm-1\.var\.set' not sent: Permissions Violation for Publish to "tether\.v1\.session\.perm-1\.var\.set"$/,
      ),
    ]);
    expect(await (await node.session('perm-1')).getVariable('a')).toBe(1);
  }, 30_000);
});
