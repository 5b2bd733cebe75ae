import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Msg } from 'nats';
import { SessionError, createEchoModel, createLanguageModel, type ModuleEvent } from '../../src/index.js';
import type { RemoteSession } from '../../src/nats/remote-session.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
let stub: OpenAIStub;

beforeAll(async () => {
  stub = await OpenAIStub.start();
});
afterAll(async () => {
  await stub?.close();
});

const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/** Every request sent for session `sessionId` from now on, as a plain subscriber of its subjects hears them. */
async function requestsOf(sessionId: string): Promise<Msg[]> {
  const heard: Msg[] = [];
  const subscription = nc().subscribe(`tether.v1.session.${sessionId}.>`, {
    callback: (_error, msg) => heard.push(msg),
  });
  await nc().flush();
  onTestFinished(() => subscription.unsubscribe());
  return heard;
}

/** Every call of the session API, each with arguments a live handle would take. */
const calls = (session: RemoteSession): Record<string, () => Promise<unknown>> => ({
  defineVariable: () => session.defineVariable('other', 'integer', 1),
  getVariable: () => session.getVariable('kept'),
  getVariableWithDefault: () => session.getVariable('kept', { default: 'no' }),
  describeVariable: () => session.describeVariable('kept'),
  hasVariable: () => session.hasVariable('kept'),
  listVariables: () => session.listVariables(),
  getVariables: () => session.getVariables(['kept']),
  readVariables: () => session.readVariables(['kept']),
  setVariable: () => session.setVariable('kept', 'changed'),
  updateVariable: () => session.updateVariable('kept', () => 'updated'),
  deleteVariable: () => session.deleteVariable('kept'),
  setVariables: () => session.setVariables({ kept: 'batch' }),
  variableHistory: () => session.variableHistory('kept'),
  rollbackVariable: () => session.rollbackVariable('kept', 1),
  lockVariable: () => session.lockVariable('kept', 'me'),
  unlockVariable: () => session.unlockVariable('kept', 'me'),
  exportVariables: () => session.exportVariables(),
  importVariables: () => session.importVariables([]),
  watchVariables: () => session.watchVariables('*', () => {}),
  module: () => session.module('qa'),
  createModule: () => session.module('qb', predict),
  // A stopped handle says so before it looks at the spec.
  createModuleFromBadSpec: () => session.module('qc', { signature: 5, tools: [() => 1] } as never),
  modules: () => session.modules(),
});

describe('RemoteSession.stop', () => {
  it('refuses every later call with session_stopped, sending nothing, and leaves the session on the nodes', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    const session = await client.session('s1');
    await session.defineVariable('kept', 'string', 'yes');
    await session.defineVariable('t', 'float', 0.5);
    await session.module('qa', predict);
    const requests = await requestsOf('s1');

    await session.stop();
    await session.stop();

    for (const [name, call] of Object.entries(calls(session))) {
      const error = await call().catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(SessionError);
      expect(error, name).toMatchObject({
        code: 'session_stopped',
        message: "session 's1' stopped",
        sessionId: 's1',
        details: { sessionId: 's1', handle: 'stopped' },
      });
    }
    await nc().flush();
    expect(requests.map((msg) => msg.subject)).toEqual([]);
    // The same life, with its variables and module: nothing of it was touched on the nodes.
    const again = await client.session('s1');
    expect(again.incarnation).toBe(session.incarnation);
    expect(await again.getVariable('kept')).toBe('yes');
    expect((await again.modules()).map((handle) => handle.moduleId)).toEqual(['qa']);
  });

  // Found by a review: the remote handle checked its stop first and answered session_stopped.
  it('refuses a bad definition on a stopped handle with validation_failed, as a stopped embedded handle does', async () => {
    const node = await fx().runtime(fx().buckets());
    const embedded = await node.session('s2');
    const remote = await (await fx().client()).session('s2');
    await Promise.all([embedded.stop(), remote.stop()]);
    for (const define of [
      // @ts-expect-error: an unknown type, as a JavaScript caller may give it
      (s: typeof embedded) => s.defineVariable('b', 'nope', 1),
      (s: typeof embedded) => s.defineVariable('b.c', 'integer', 1),
      (s: typeof embedded) => s.defineVariable('b', 'integer', 'x'),
    ]) {
      expect(await settledCode(define(embedded))).toBe('validation_failed');
      expect(await settledCode(define(remote as unknown as typeof embedded))).toBe('validation_failed');
    }
  });

  it('ends its watches: their listeners hear nothing more, while a watch of another handle goes on', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const session = await client.session('w1');
    await session.defineVariable('x', 'integer', 0);
    const heard: unknown[] = [];
    const unwatch = await session.watchVariables('*', (change) => heard.push(change.newValue));
    const other = await client.session('w1');
    const heardByOther: unknown[] = [];
    await other.watchVariables('*', (change) => heardByOther.push(change.newValue));
    await other.setVariable('x', 1);
    await waitFor(() => heard.length === 1 && heardByOther.length === 1, { message: 'both watches hear the write' });

    await session.stop();
    await other.setVariable('x', 2);
    await waitFor(() => heardByOther.length === 2, { message: "the other handle's watch hears the next write" });
    // The other watch heard the write: had the stopped one still been subscribed, the event would have reached it too.
    expect(heard).toEqual([1]);
    unwatch();
  });

  it('rejects a watch its stop overtook as the watch started, and delivers nothing to it', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('w2');
    await session.defineVariable('x', 'integer', 0);
    const heard: unknown[] = [];
    const starting = session.watchVariables('*', (change) => heard.push(change), { includeInitial: true });
    await session.stop();

    await expect(starting).rejects.toMatchObject({ code: 'session_stopped', details: { handle: 'stopped' } });
    const other = await (await fx().client()).session('w2');
    await other.setVariable('x', 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual([]);
  });

  it('rejects a watch whose start read it overtook, and delivers nothing of that read nor after it', async () => {
    await fx().node(fx().buckets());
    // The client's reads of the variables wait at a proxy while the test says so: the stop lands after the watch
    // sent its start read and before the reply.
    const list = 'tether.v1.session.w3.var.list';
    let listsSent = 0;
    const proxy = await startHoldingProxy(fx().server.url, (subject) => {
      if (subject !== list) return false;
      listsSent += 1;
      return true;
    });
    onTestFinished(() => proxy.close());
    const client = await fx().client({ servers: proxy.url });
    const session = await client.session('w3');
    await session.defineVariable('x', 'integer', 0);
    const heard: unknown[] = [];
    proxy.hold();
    const starting = session.watchVariables('*', (change) => heard.push(change), { includeInitial: true });
    await waitFor(() => listsSent === 1, { message: 'the watch sent its start read' });

    await session.stop();
    proxy.release();

    await expect(starting).rejects.toMatchObject({ code: 'session_stopped', details: { handle: 'stopped' } });
    const other = await client.session('w3');
    const heardByOther: unknown[] = [];
    await other.watchVariables('*', (change) => heardByOther.push(change.newValue));
    await other.setVariable('x', 1);
    await waitFor(() => heardByOther.length === 1, { message: "the other handle's watch hears the write" });
    // The same client heard the write's event: had the stopped watch still been subscribed, it would have too.
    expect(heard).toEqual([]);
  });

  it('stops the module handles it gave out: calls refused with session_stopped, listeners ended, module kept', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    const session = await client.session('m1');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    const [listed] = await session.modules();
    const results: ModuleEvent[] = [];
    qa.on('module.result', (event) => results.push(event));
    const states: string[] = [];
    qa.onState((state) => states.push(state));
    await waitFor(() => states.length === 1, { message: 'the first state' });
    const requests = await requestsOf('m1');

    await session.stop();

    for (const handle of [qa, listed!]) {
      expect(handle.alive).toBe(false);
      expect(await settledCode(handle.execute({ question: 'x' }))).toBe('session_stopped');
      expect(await settledCode(handle.describe())).toBe('session_stopped');
      // Its stop would remove the module on every node: refused, since the handle was given up, not the module.
      await expect(handle.stop()).rejects.toMatchObject({ code: 'session_stopped', details: { handle: 'stopped' } });
    }
    const late: ModuleEvent[] = [];
    qa.on('module.result', (event) => late.push(event));
    qa.onState((state) => states.push(state));
    await nc().flush();
    expect(requests).toEqual([]);

    // The module is still there for a new handle, and what it runs reaches none of the old listeners.
    const again = await (await client.session('m1')).module('qa');
    const heardByNew: ModuleEvent[] = [];
    again.on('module.result', (event) => heardByNew.push(event));
    expect((await again.execute({ question: 'still there?' })).moduleId).toBe('qa');
    await waitFor(() => heardByNew.length === 1, { message: "the new handle's listener hears the result" });
    expect(results).toEqual([]);
    expect(late).toEqual([]);
    expect(states).toEqual(['idle']);
  });

  it('leaves a module handle stopped before still stopped, its stop doing nothing', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('m2');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    await qa.stop();
    await session.stop();

    await expect(qa.stop()).resolves.toBeUndefined();
    // What ended it first, its own stop, as an embedded handle says (module-handles-alike.nats.test.ts).
    expect(await settledCode(qa.describe())).toBe('module_not_found');
  });

  it('lets executions sent before it settle, and still cancels one on the nodes when it is aborted', async () => {
    stub.fallback = () => text('Answer: slow');
    stub.delayMs = 3_000;
    onTestFinished(() => {
      stub.delayMs = 0;
    });
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    await fx().node(fx().buckets(), { llm });
    const session = await (await fx().client()).session('m3');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', { ...predict, maxRetries: 0 });
    const requests = await requestsOf('m3');
    const running = qa.execute({ question: 'slow?' });
    await waitFor(() => stub.chatRequests.length === 1, { message: 'the first execution reached the LLM' });
    // Queued behind the first on the node.
    const abort = new AbortController();
    const queued = qa.execute({ question: 'later?' }, { signal: abort.signal });
    await waitFor(() => requests.filter((msg) => msg.subject.endsWith('.execute')).length === 2, {
      message: 'the second execution was sent',
    });

    await session.stop();
    abort.abort('changed my mind');

    await expect(queued).rejects.toMatchObject({ code: 'execution_aborted' });
    await waitFor(() => requests.some((msg) => msg.subject === 'tether.v1.session.m3.module.qa.cancel'), {
      message: 'the cancel reached the nodes',
    });
    expect((await running).output).toEqual({ answer: 'slow' });
    // Cancelled on the node: only the first execution called the LLM.
    expect(stub.chatRequests).toHaveLength(1);
  });

  it('still deletes the session, as a stopped embedded handle does', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const session = await client.session('d1');
    await session.defineVariable('x', 'integer', 1);
    await session.stop();

    await session.delete();

    const again = await client.session('d1');
    expect(again.incarnation).not.toBe(session.incarnation);
    expect(await again.hasVariable('x')).toBe(false);
    expect(await settledCode(session.getVariable('x'))).toBe('session_stopped');
  });

  // Found by the differential fuzzer: stopped after its session was deleted, a remote handle said session_stopped,
  // where an embedded one goes on saying session_not_found: its stop changed nothing of a session already gone.
  it('goes on saying its session is gone when it was deleted before the stop, as an embedded handle does', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    for (const [id, deleteIt] of [
      ['own', (s: RemoteSession) => s.delete()],
      ['other', async () => (await (await fx().client()).session('other', { create: false })).delete()],
    ] as const) {
      const remote = await client.session(id);
      await remote.defineVariable('t', 'float', 0.5);
      const embedded = await node.session(id);
      const modules = [await remote.module('qa', predict), await embedded.module('qa')];
      await deleteIt(remote);
      // Heard by the remote handle (its own delete, or a request answered session_not_found).
      await expect(remote.hasVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
      await remote.stop();
      await embedded.stop();
      for (const handle of [remote, embedded]) {
        for (const call of [() => handle.getVariable('x'), () => handle.watchVariables('*', () => {})])
          await expect(call()).rejects.toMatchObject({ code: 'session_not_found', details: { sessionId: id } });
      }
      for (const qa of modules)
        await expect(qa.describe()).rejects.toMatchObject({ code: 'session_not_found', details: { sessionId: id } });
      const error = (await remote.getVariable('x').catch((e: unknown) => e)) as SessionError;
      expect(error.message).toBe(
        `session '${id}' not found in the life the request names ('${remote.incarnation}', Tether-Incarnation): ` +
          'that life is over, or never was',
      );
      expect(error.details).toEqual({ sessionId: id, incarnation: remote.incarnation });
    }
  });

  it('judges a bad argument first once its session was deleted and then it stopped, as an embedded handle does', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    const remote = await client.session('gone-args');
    const embedded = await node.session('gone-args');
    await remote.delete();
    await expect(embedded.hasVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    await remote.stop();
    await embedded.stop();
    const calls: [string, (s: RemoteSession | typeof embedded) => Promise<unknown>][] = [
      ['lockVariable', (s) => s.lockVariable('', 'alice')],
      ['unlockVariable', (s) => s.unlockVariable('x', '')],
      ['setVariable', (s) => s.setVariable('a b', 1)],
      ['deleteVariable', (s) => s.deleteVariable('*')],
      ['getVariable', (s) => s.getVariable('')],
      ['describeVariable', (s) => s.describeVariable('a.b')],
      ['hasVariable', (s) => s.hasVariable('')],
      ['getVariables', (s) => s.getVariables(['t', ''])],
      ['variableHistory', (s) => s.variableHistory('')],
      ['module', (s) => s.module('q*', predict)],
    ];
    for (const [call, make] of calls) {
      const expected = (await make(embedded).catch((e: unknown) => e)) as SessionError;
      expect(expected.code, `embedded ${call}`).toBe('validation_failed');
      const got = (await make(remote).catch((e: unknown) => e)) as SessionError;
      expect({ code: got.code, message: got.message, details: got.details }, `remote ${call}`).toEqual({
        code: expected.code,
        message: expected.message,
        details: expected.details,
      });
    }
    // A spec's unknown key too (a node lists the keys a wire spec can carry: docs/protocol.md, "The module spec").
    await expect(remote.module('qa', { ...predict, extra: 1 } as never)).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'spec', unknown: ['extra'] },
    });
    // Its good arguments still say the session is gone, sending nothing.
    await expect(remote.lockVariable('x', 'alice')).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(remote.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('refuses a setVariables value that cannot be read once stopped, its session there or deleted, as embedded', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    // A value behind a getter that throws (a proxy, a lazy field): the embedded call reads each value first.
    const unreadable = (): Record<string, unknown> =>
      Object.defineProperty({}, 'x', {
        enumerable: true,
        get: () => {
          throw new Error('not now');
        },
      });
    for (const deleted of [false, true]) {
      const id = `unreadable-${deleted}`;
      const remote = await client.session(id);
      const embedded = await node.session(id);
      if (deleted) await remote.delete();
      await remote.stop();
      await embedded.stop();
      const expected = (await embedded.setVariables(unreadable()).catch((e: unknown) => e)) as SessionError;
      expect(expected.code, `embedded, deleted: ${deleted}`).toBe('validation_failed');
      const got = (await remote.setVariables(unreadable()).catch((e: unknown) => e)) as SessionError;
      expect({ code: got.code, message: got.message, details: got.details }, `remote, deleted: ${deleted}`).toEqual({
        code: expected.code,
        message: "setVariables value 'x' could not be read: not now",
        details: expected.details,
      });
    }
  });
});
