import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectNats } from 'nats';
import { createEchoModel, Runtime } from '../src/index.js';
import { useCliNode } from './support/cli-node.js';
import { cliRunners } from './support/cli-runners.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';

const { inProcess } = useCliNode();

/** Commands the node refuses on a session that does not exist, each with the line the refusal prints. */
const REFUSED: readonly [args: readonly string[], line: string][] = [
  [['var', 'define', 'x', 'nosuch', '1'], "tether: validation_failed: x: unknown variable type 'nosuch'; accepted: "],
  [['var', 'define', 'x', 'integer', '1.5'], 'tether: validation_failed: x: must be a whole number, got 1.5\n'],
  [
    ['var', 'define', 'x', 'integer', '5', '--constraints', '{"max":2}'],
    'tether: validation_failed: x: value 5 is above maximum 2\n',
  ],
  [
    ['var', 'define', 'x', 'integer', '1', '--constraints', '{"mxa":2}'],
    "tether: validation_failed: x: unknown constraint 'mxa' for type integer; accepted: min, max\n",
  ],
  [['var', 'define', 'a.b', 'integer', '1'], "tether: validation_failed: invalid variable name 'a.b'"],
  [['var', 'define', 'doc', 'string', 'd'.repeat(600_000)], "tether: validation_failed: variable 'doc' is "],
  [
    ['module', 'create', 'qa', '--type', 'Predict', '--signature', 'q -> a'],
    "tether: validation_failed: invalid signature 'q -> a'",
  ],
  [
    ['module', 'create', 'qa', '--type', 'Predict', '--signature', 'question -> answer', '--bind', 'temperature=t'],
    "tether: variable_not_found: variable 't' not found in session ",
  ],
  [
    ['module', 'create', 'qa', '--type', 'Nope', '--signature', 'question -> answer'],
    "tether: unknown_module: Unknown module type 'Nope'",
  ],
  [
    ['module', 'create', 'qa', '--spec', '{"type":"Predict","signature":"question -> answer","bogus":1}'],
    'tether: validation_failed: module spec has unknown keys: bogus',
  ],
];

describe('cli open if accepted', () => {
  it('leaves no session behind when var define or module create is refused on a session that does not exist, and creates it for one accepted', async () => {
    const runs = await Promise.all(REFUSED.map(([args], i) => inProcess([...args, '--session', `refused-${i}`])));
    runs.forEach((run, i) => {
      expect([run.code, run.stdout]).toEqual([1, '']);
      expect(run.stderr.startsWith(REFUSED[i]![1])).toBe(true);
    });
    // Each command is its own connection: another one finds none of the sessions.
    const lists = await Promise.all(REFUSED.map((_, i) => inProcess(['var', 'list', '--session', `refused-${i}`])));
    lists.forEach((list, i) => {
      expect([list.code, list.stderr]).toEqual([1, `tether: session_not_found: session 'refused-${i}' not found\n`]);
    });

    // Accepted, the same commands create the session.
    const [defined, created] = await Promise.all([
      inProcess(['var', 'define', 'x', 'integer', '1', '--session', 'refused-0']),
      inProcess([
        'module',
        'create',
        'qa',
        '--type',
        'Predict',
        '--signature',
        'question -> answer',
        '-s',
        'refused-6',
      ]),
    ]);
    expect([defined.code, defined.stdout, defined.stderr]).toEqual([0, 'x = 1  (integer, v1)\n', '']);
    expect([created.code, created.stdout, created.stderr]).toEqual([
      0,
      'module qa (Predict) started in session refused-6\n',
      '',
    ]);
    // Refused in a session that exists, a define leaves the session and what it holds as they were.
    expect((await inProcess(['var', 'define', 'y', 'nosuch', '1', '--session', 'refused-0'])).code).toBe(1);
    const [vars, modules] = await Promise.all([
      inProcess(['var', 'list', '--session', 'refused-0']),
      inProcess(['module', 'list', '--session', 'refused-6']),
    ]);
    expect([vars.code, vars.stdout]).toEqual([0, 'x  integer  v1  1\n']);
    expect([modules.code, modules.stdout.includes('qa')]).toEqual([0, true]);
  });
});

// Found by a review: `var define` on a new session, refused because the JetStream account was full, left the empty
// session behind (the node judges the input before the session is opened, not the room left for it).
describe('cli open if accepted on a full JetStream account', () => {
  let server: NatsTestServer;
  let node: Runtime;
  const nats = { user: 'l', pass: 'l' };
  const { inProcess } = cliRunners(() => `nats://l:l@127.0.0.1:${new URL(server.url).port}`);

  beforeAll(async () => {
    server = await startNatsServer({
      config: 'accounts { L: { jetstream: { max_file: 60000, max_mem: 60000 }, users: [{ user: l, password: l }] } }',
    });
    node = await Runtime.start({ llm: createEchoModel(), onError: () => {}, nats: { servers: server.url, ...nats } });
    // Filled so that what is left holds a session record (some 200 bytes stored) but not a variable of 1,000
    // characters.
    const filler = await node.session('filler');
    const nc = await connectNats({ servers: server.url, ...nats });
    try {
      const manager = await nc.jetstreamManager();
      const account = () => manager.getAccountInfo();
      const max = (await account()).limits.max_storage;
      const before = (await account()).storage;
      await filler.defineVariable('probe', 'string', 'a'.repeat(1000));
      const overhead = (await account()).storage - before - 1000;
      for (let n = 1; ; n += 1) {
        const size = Math.min(2000, max - (await account()).storage - 400 - overhead);
        if (size < 1) break;
        await filler.defineVariable(`v${n}`, 'string', 'a'.repeat(size));
      }
      const room = max - (await account()).storage;
      if (room < 300 || room > 800) throw new Error(`room left: ${room}`);
    } finally {
      await nc.close();
    }
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it('exits 1 with store_limit_reached and leaves no session behind when the session fits but the variable does not', async () => {
    const run = await inProcess(['var', 'define', 'n', 'string', 'b'.repeat(1000), '-s', 'fresh']);
    expect([run.code, run.stdout]).toEqual([1, '']);
    expect(run.stderr).toMatch(/^tether: store_limit_reached: [^\n]*\n$/);
    const list = await inProcess(['session', 'list']);
    expect(list.stdout.trim().split('\n')).toEqual(['filler']);
    const vars = await inProcess(['var', 'list', '-s', 'fresh']);
    expect([vars.code, vars.stderr]).toEqual([1, "tether: session_not_found: session 'fresh' not found\n"]);
  }, 30_000);
});
