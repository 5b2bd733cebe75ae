import { afterEach, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, SessionError, ValidationError } from '../../src/index.js';
import { connect } from '../../src/nats/remote-client.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const embedded: Runtime[] = [];
afterEach(async () => {
  await Promise.all(embedded.splice(0).map((runtime) => runtime.stop()));
});

/** What `Runtime` and the remote client both offer at the top level, called as a JavaScript caller could. */
interface Top {
  session(id: string, options?: unknown): Promise<any>;
  /** `runtime.stop()`, or `client.close()`. */
  end(): Promise<void>;
  /** Whether the top level keeps a record of which sessions exist (a NATS system does; an embedded runtime not). */
  readonly records: boolean;
}

/** The same top level on an embedded runtime, on a NATS node (its own API), and from a remote client. */
const setups: [string, () => Promise<Top>][] = [
  [
    'embedded',
    async () => {
      const runtime = await Runtime.start({ onError: () => {} });
      embedded.push(runtime);
      return {
        session: (id, options) => runtime.session(id, options as never),
        end: () => runtime.stop(),
        records: false,
      };
    },
  ],
  [
    'NATS node',
    async () => {
      const runtime = await fx().runtime(fx().buckets());
      return {
        session: (id, options) => runtime.session(id, options as never),
        end: () => runtime.stop(),
        records: true,
      };
    },
  ],
  [
    'remote client',
    async () => {
      await fx().node(fx().buckets());
      const client = await fx().client();
      return {
        session: (id, options) => client.session(id, options as never),
        end: () => client.close(),
        records: true,
      };
    },
  ],
];

const SPEC = { type: 'Predict', signature: 'question -> answer' } as const;

describe.each(setups)('the top level (%s)', (kind, start) => {
  it('refuses a bad session options bag with the same ValidationError, opening nothing', async () => {
    const top = await start();
    const refusals: [unknown, string][] = [
      [null, 'session options must be an object'],
      ['yes', 'session options must be an object'],
      [[], 'session options must be an object'],
      [{ crate: false }, 'session got unknown option crate; accepted: create'],
      [{ create: 'no' }, "session option 'create' must be a boolean, got string"],
    ];
    for (const [options, message] of refusals) {
      const error = await top.session('bags', options).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message });
    }
    // None of the refused calls opened the session.
    if (top.records)
      await expect(top.session('bags', { create: false }).then((s) => s.getVariable('x'))).rejects.toMatchObject({
        code: 'session_not_found',
      });
    for (const options of [undefined, {}, { create: true }, { create: undefined }]) {
      const session = await top.session('bags', options);
      expect(await session.getVariable('x', { default: 0 })).toBe(0);
    }
  });

  it('opens nothing with create: false, and reaches a session that exists', async () => {
    const top = await start();
    const never = top.session('never', { create: false }).then((session) => session.getVariable('x'));
    if (top.records) await expect(never).rejects.toMatchObject({ code: 'session_not_found', sessionId: 'never' });
    // An embedded runtime keeps no record of sessions: every id is one, empty until written.
    else await expect(never).rejects.toMatchObject({ code: 'variable_not_found' });
    // Still not opened by the refused call.
    if (top.records)
      await expect(top.session('never', { create: false }).then((s) => s.getVariable('x'))).rejects.toMatchObject({
        code: 'session_not_found',
      });
    await (await top.session('there')).defineVariable('x', 'integer', 1);
    const there = await top.session('there', { create: false });
    expect(await there.getVariable('x')).toBe(1);
    await there.setVariable('x', 2);
    expect(await (await top.session('there')).getVariable('x')).toBe(2);
  });

  it('refuses every later call with session_stopped once the runtime stopped or the client closed', async () => {
    const top = await start();
    const session = await top.session('ended');
    await session.defineVariable('x', 'integer', 1);
    const heard: unknown[] = [];
    await session.watchVariables('*', (change: unknown) => heard.push(change));
    const qa = await session.module('qa', SPEC);
    await top.end();
    const calls: [string, () => Promise<unknown>][] = [
      ['session', () => top.session('ended')],
      ['session of another id', () => top.session('other')],
      ['session with create: false', () => top.session('other', { create: false })],
      ['getVariable', () => session.getVariable('x')],
      ['setVariable', () => session.setVariable('x', 2)],
      ['listVariables', () => session.listVariables()],
      ['watchVariables', () => session.watchVariables('*', () => {})],
      ['module', () => session.module('qa')],
      ['modules', () => session.modules()],
      ['delete', () => session.delete()],
      ['execute', () => qa.execute({ question: 'still there?' })],
      ['describe', () => qa.describe()],
    ];
    for (const [what, call] of calls) {
      const error = await call().catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(SessionError);
      const sessionId = what.startsWith('session') && what !== 'session' ? 'other' : 'ended';
      expect(error, what).toMatchObject({ code: 'session_stopped', message: `session '${sessionId}' stopped` });
      // A client's says it is the client that closed, not the session on its nodes that stopped.
      if (kind === 'remote client') expect(error, what).toMatchObject({ details: { client: 'closed' } });
    }
    // A module of a NATS system runs on for the other nodes, its spec in the bucket: its stop cannot be done any more.
    // An embedded module ended with its runtime: there is nothing left to stop.
    if (top.records) await expect(qa.stop(), 'stop').rejects.toMatchObject({ code: 'session_stopped' });
    else await expect(qa.stop(), 'stop').resolves.toBeUndefined();
    // Listeners cannot hear anything more: adding one is no failure, as adding one on a module that is gone is not.
    expect(qa.onState(() => {})).toBeTypeOf('function');
    expect(qa.alive).toBe(false);
    await session.stop();
    expect(heard).toEqual([]);
    // A bad id is still a bad id.
    await expect(top.session('a.b')).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('a remote client whose connection gave up', () => {
  it('refuses a watch with NatsConnectionError, and adding a module listener throws nothing', async () => {
    await fx().node(fx().buckets());
    const proxy = await startTcpProxy(fx().server.url);
    try {
      const client = await connect({
        servers: proxy.url,
        onError: () => {},
        reconnect: { maxAttempts: 1, waitMs: 50 },
      });
      const session = await client.session('gave-up');
      const qa = await session.module('qa', SPEC);
      proxy.cut();
      await client.closed;
      await waitFor(() => !qa.alive, { message: 'the module handle is no longer alive' });
      const error = await session.watchVariables('*', () => {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ code: 'nats_connection', status: 'closed' });
      expect(qa.onState(() => {})).toBeTypeOf('function');
      expect(() => qa.on('module.result', () => {})).not.toThrow();
      // A request made after that is not sent, and says so: a write was not applied (not "got no reply").
      for (const [subject, call, fate] of [
        ['var.get', () => session.getVariable('x'), {}],
        ['var.set', () => session.setVariable('x', 2), { outcome: 'not_applied' }],
        ['module.qa.execute', () => qa.execute({ question: 'q' }), { outcome: 'not_applied' }],
      ] as const) {
        const refused = await call().catch((e: unknown) => e);
        expect(refused, subject).toBeInstanceOf(NatsConnectionError);
        const full = `tether.v1.session.gave-up.${subject}`;
        expect(refused).toMatchObject({
          status: 'closed',
          message: expect.stringMatching(`request to '${full}' not sent$`),
        });
        expect((refused as NatsConnectionError).details).toEqual({
          status: 'closed',
          server: expect.any(String),
          subject: full,
          ...fate,
        });
      }
    } finally {
      await proxy.close();
    }
  });
});

describe("a NATS node's module stopped after its runtime", () => {
  it('resolves for a module that stayed on the node (it ended with it), and refuses one shared with other nodes', async () => {
    const runtime = await fx().runtime(fx().buckets());
    const session = await runtime.session('stops');
    const echo = { name: 'echo', description: 'Repeats its input', func: (args: unknown) => args };
    // A function in its spec keeps it off the bucket: no other node serves it.
    const local = await session.module('local', { ...SPEC, type: 'ReAct', tools: [echo] });
    const shared = await session.module('shared', SPEC);
    await runtime.stop();
    await expect(local.stop()).resolves.toBeUndefined();
    await expect(shared.stop()).rejects.toMatchObject({ code: 'session_stopped' });
  });
});
