import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallTimeoutError, createLanguageModel, type ModuleApi } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
let stub: OpenAIStub;
beforeAll(async () => {
  stub = await OpenAIStub.start();
});
afterAll(async () => {
  await stub?.close();
});

const spec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
  maxRetries: 0,
};
const EVENTS = ['module.synced', 'module.syncFailed', 'module.delta', 'module.result', 'module.failed'] as const;

/** An embedded handle (on the node) and a remote handle (from a client) of one module `qa` of session `sessionId`. */
async function bothKinds(sessionId: string) {
  const node = await fx().runtime(fx().buckets(), {
    llm: createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' }),
  });
  const session = await (await fx().client()).session(sessionId);
  await session.defineVariable('t', 'float', 0.5);
  const remote = await session.module('qa', spec);
  const embedded = await (await node.session(sessionId)).module('qa');
  return { node, session, embedded, remote };
}

describe('module handles alike, embedded and remote', () => {
  it('stop without complaint once the session is gone, the module with it', async () => {
    const { session, embedded, remote } = await bothKinds('gone');
    await session.delete();
    await expect(embedded.stop()).resolves.toBeUndefined();
    await expect(remote.stop()).resolves.toBeUndefined();
    // Found by the differential fuzzer: the remote handle then said module_not_found, as if its stop had removed the
    // module, where the embedded one says why it is gone: its session was deleted.
    for (const handle of [embedded, remote])
      await expect(handle.describe()).rejects.toMatchObject({
        code: 'session_not_found',
        details: { sessionId: 'gone' },
      });
    expect(remote.alive).toBe(false);
  });

  // Found by the differential fuzzer: the remote handle's refusal carried `details.handle: 'stopped'`, which the
  // embedded one's does not (README: "module_not_found once the module was stopped", embedded as remotely).
  it('refuse every call after their own stop with the same module_not_found', async () => {
    const { embedded, remote } = await bothKinds('stopped');
    await embedded.stop();
    await remote.stop();
    for (const call of [(h: ModuleApi) => h.describe(), (h: ModuleApi) => h.execute({ question: 'q' })]) {
      const [fromEmbedded, fromRemote] = await Promise.all([embedded, remote].map((h) => call(h).catch((e) => e)));
      expect(fromRemote.constructor).toBe(fromEmbedded.constructor);
      expect({ ...fromRemote, message: fromRemote.message }).toEqual({
        ...fromEmbedded,
        message: fromEmbedded.message,
      });
      expect(fromRemote).toMatchObject({
        code: 'module_not_found',
        details: { sessionId: 'stopped', moduleId: 'qa' },
      });
    }
  });

  // Found by the differential fuzzer (seed 8): the remote handle then said session_stopped, its session handle's
  // refusal, where the embedded one goes on saying what ended it first, its own stop.
  it('go on saying module_not_found after their own stop once their session handles stop too', async () => {
    const { node, session: remoteSession, remote } = await bothKinds('stopped-then-session');
    const embeddedSession = await node.session('stopped-then-session');
    const embedded = await embeddedSession.module('qa');
    await embedded.stop();
    await remote.stop();
    await embeddedSession.stop();
    await remoteSession.stop();
    for (const handle of [embedded, remote])
      await expect(handle.describe()).rejects.toMatchObject({
        code: 'module_not_found',
        details: { sessionId: 'stopped-then-session', moduleId: 'qa' },
      });
  });

  // Remotely, a signal aborted already was answered `execution_aborted` at once, without asking whether the module
  // was there: a module stopped through another handle, or gone with its session, said so embedded but not remotely.
  describe('say a module or its session gone before a signal that fired already, as embedded', () => {
    const signal = AbortSignal.abort('changed my mind');

    it('a module stopped through another handle: module_not_found', async () => {
      const { session, embedded, remote } = await bothKinds('aborted-stopped');
      await (await session.module('qa')).stop();
      for (const handle of [embedded, remote])
        await expect(handle.execute({ question: 'q' }, { signal })).rejects.toMatchObject({
          code: 'module_not_found',
          message: "module 'qa' not found in session 'aborted-stopped'",
          details: { sessionId: 'aborted-stopped', moduleId: 'qa' },
        });
      expect(remote.alive).toBe(false);
    });

    it('a session deleted through another client: session_not_found', async () => {
      const { embedded, remote } = await bothKinds('aborted-deleted');
      await (await (await fx().client()).session('aborted-deleted', { create: false })).delete();
      for (const handle of [embedded, remote])
        await expect(handle.execute({ question: 'q' }, { signal })).rejects.toMatchObject({
          code: 'session_not_found',
          details: { sessionId: 'aborted-deleted' },
        });
    });

    it('a module that is there: the abort', async () => {
      const { embedded, remote } = await bothKinds('aborted-there');
      for (const handle of [embedded, remote])
        await expect(handle.execute({ question: 'q' }, { signal })).rejects.toMatchObject({
          code: 'execution_aborted',
          details: { moduleId: 'qa', reason: 'changed my mind' },
        });
    });
  });

  it('refuse a listener that is no function at the call, not at every later event', async () => {
    const { embedded, remote } = await bothKinds('listeners');
    for (const handle of [embedded, remote]) {
      for (const [call, message] of [
        [() => handle.on('module.result', 'x' as never), 'on() needs a listener function, got string'],
        [() => handle.on('module.result', undefined as never), 'on() needs a listener function, got undefined'],
        [() => handle.onState(5 as never), 'onState() needs a listener function, got number'],
      ] as const) {
        expect(call).toThrow(expect.objectContaining({ code: 'validation_failed', message }));
      }
    }
  });

  it('refuse an event type no module announces, naming the ones there are, and still tell the listeners taken', async () => {
    const { embedded, remote } = await bothKinds('event-types');
    const accepted = 'module.result, module.failed, module.delta, module.synced, module.syncFailed';
    const heard: string[] = [];
    for (const [index, handle] of [embedded, remote].entries()) {
      for (const [type, got] of [
        ['module.reslt', "'module.reslt'"],
        ['module.state', "'module.state' (state changes are heard with onState)"],
        [7, 'number'],
      ] as const) {
        expect(() => handle.on(type as never, () => void heard.push(`refused ${String(type)}`))).toThrow(
          expect.objectContaining({
            code: 'validation_failed',
            message: `on() takes one of ${accepted}, got ${got}`,
            details: { field: 'type', accepted: accepted.split(', ') },
          }),
        );
      }
      handle.on('module.result', () => void heard.push(`result ${index}`));
    }
    stub.fallback = () => text('Answer: ok');
    await expect(remote.execute({ question: 'q' })).resolves.toMatchObject({ output: { answer: 'ok' } });
    // Only the listeners the handles took are told; the refused ones were never added.
    await waitFor(() => heard.length >= 2);
    expect(heard.sort()).toEqual(['result 0', 'result 1']);
  });

  it('name a timed-out execution alike: its session, module and execution', async () => {
    const { embedded, remote } = await bothKinds('slow');
    stub.delayMs = 1000;
    try {
      const [fromEmbedded, fromRemote] = await Promise.all(
        [embedded, remote].map((qa) => qa.execute({ question: 'q' }, { timeoutMs: 200 }).catch((e: unknown) => e)),
      );
      for (const error of [fromEmbedded, fromRemote]) {
        expect(error).toBeInstanceOf(CallTimeoutError);
        expect(Object.keys((error as CallTimeoutError).details).sort()).toEqual([
          'executionId',
          'moduleId',
          'processId',
          'sessionId',
          'stage',
          'target',
          'timeoutMs',
        ]);
        expect(error).toMatchObject({
          code: 'call_timeout',
          message: expect.stringMatching(
            /^call to 'tether.module.slow.qa' timed out after 200 ms while (executing|queued)/,
          ),
          details: { sessionId: 'slow', moduleId: 'qa', executionId: expect.any(String), timeoutMs: 200 },
        });
      }
      // The remote caller hears where its execution was when its time ran out, as the embedded one does: waiting for
      // the model, or behind the other in the module's mailbox.
      for (const error of [fromEmbedded, fromRemote]) {
        const { stage } = (error as CallTimeoutError).details;
        expect(['executing', 'queued']).toContain(stage);
        expect((error as CallTimeoutError).message).toContain(
          stage === 'queued' ? ' while queued ' : ' while executing (',
        );
      }
    } finally {
      stub.delayMs = 0;
    }
  });

  it("hand on()'s listeners the same events, the remote one adding only the session's life", async () => {
    stub.fallback = () => text('Answer: ok');
    const { session, embedded, remote } = await bothKinds('heard');
    const heard = { embedded: [] as object[], remote: [] as object[] };
    for (const type of EVENTS) {
      embedded.on(type, (event) => heard.embedded.push(event));
      remote.on(type, (event) => heard.remote.push(event));
    }
    await remote.execute({ question: 'fine' });
    // A temperature of 5 is refused by the module (not by the float variable): the next sync fails.
    await session.setVariable('t', 5);
    await embedded.execute({ question: 'refused' });
    await session.setVariable('t', 0.5);
    stub.delayMs = 600;
    await embedded.execute({ question: 'late' }, { timeoutMs: 100 }).catch(() => undefined);
    stub.delayMs = 0;
    const types = ['synced', 'delta', 'result', 'syncFailed', 'delta', 'result', 'synced', 'failed'];
    await waitFor(() => heard.remote.length === types.length && heard.embedded.length === types.length, {
      message: 'every event heard, remotely and embedded',
    });
    expect(heard.embedded.map((event) => (event as { type: string }).type)).toEqual(types.map((t) => `module.${t}`));
    for (const event of heard.remote) {
      expect(event).toMatchObject({ incarnation: session.incarnation, nodeId: expect.any(String) });
    }
    const withoutLife = heard.remote.map(
      ({ incarnation: _life, nodeId: _node, ...rest }: { incarnation?: string; nodeId?: string }) => rest,
    );
    expect(withoutLife).toEqual(heard.embedded);
    for (const event of heard.embedded) expect(event).toMatchObject({ sessionId: 'heard', moduleId: 'qa' });
  });
});
