import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/** A node on fresh buckets running the offline model, a client, and session `sessionId` opened with `t` defined. */
async function opened(sessionId: string, nodeOptions: { hibernateAfterMs?: number } = {}) {
  const node = await fx().runtime(fx().buckets(), { llm: createEchoModel(), ...nodeOptions });
  const client = await fx().client();
  const session = await client.session(sessionId);
  await session.defineVariable('t', 'float', 0.5);
  return { node, client, session };
}

describe('RemoteModuleHandle.alive', () => {
  it('is true for a module created or found, while it hibernates too, and false for good once its stop resolved', async () => {
    const { node, session } = await opened('a1', { hibernateAfterMs: 40 });
    const qa = await session.module('qa', predict);
    const found = await session.module('qa');
    const [listed] = await session.modules();
    expect([qa.alive, found.alive, listed!.alive]).toEqual([true, true, true]);
    await qa.execute({ question: 'x' });
    await waitFor(() => node.whereis(moduleProcessName('a1', 'qa')) === undefined, { message: 'qa hibernates' });
    expect(qa.alive).toBe(true);

    await qa.stop();
    expect(qa.alive).toBe(false);
    // The other handles were not told: nothing is asked until they send a request.
    expect(found.alive).toBe(true);
    await session.module('qa', predict);
    expect(qa.alive).toBe(false);
  });

  it('turns false when a request finds the module gone, and true again once one finds it created again', async () => {
    const { session } = await opened('a2');
    const qa = await session.module('qa', predict);
    await (await session.module('qa')).stop();

    expect(await settledCode(qa.describe())).toBe('module_not_found');
    expect(qa.alive).toBe(false);
    expect(await settledCode(qa.execute({ question: 'x' }))).toBe('module_not_found');
    expect(qa.alive).toBe(false);

    await session.module('qa', predict);
    expect(qa.alive).toBe(false);
    expect((await qa.execute({ question: 'y' })).moduleId).toBe('qa');
    expect(qa.alive).toBe(true);
  });

  it('stays false when the cancel of an aborted execution is answered: a cancel does not look for the module', async () => {
    const { session } = await opened('a9');
    const qa = await session.module('qa', predict);
    await (await session.module('qa')).stop();
    expect(await settledCode(qa.describe())).toBe('module_not_found');
    // Every reply on the wire, this client's included: the cancel's answer is seen arriving.
    const replies = nc().subscribe('_INBOX.>');
    await nc().flush();
    let cancelAnswered = false;
    void (async () => {
      for await (const msg of replies) if (msg.string().includes('"cancelled"')) cancelAnswered = true;
    })();
    const abort = new AbortController();
    const execution = qa.execute({ question: 'x' }, { signal: abort.signal });
    abort.abort();
    expect(await settledCode(execution)).toBe('execution_aborted');
    await waitFor(() => cancelAnswered, { message: 'the cancel answered' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(qa.alive).toBe(false);
    replies.unsubscribe();
  });

  it('turns false when its session handle stops, and when its client closes', async () => {
    const { client, session } = await opened('a3');
    const qa = await session.module('qa', predict);
    const other = await (await client.session('a3')).module('qa');

    await session.stop();
    expect(qa.alive).toBe(false);
    expect(other.alive).toBe(true);

    await client.close();
    expect(other.alive).toBe(false);
  });

  it("turns false for good once its session handle's delete resolved", async () => {
    const { client, session } = await opened('a4');
    const qa = await session.module('qa', predict);

    await session.delete();
    expect(qa.alive).toBe(false);

    // The id's next life, with a module of the same id: another module, which the handle never reaches.
    const next = await client.session('a4');
    await next.defineVariable('t', 'float', 0.5);
    await next.module('qa', predict);
    expect(await settledCode(qa.describe())).toBe('session_not_found');
    expect(qa.alive).toBe(false);
  });

  it('turns false for every module handle of a session handle once a request of any hears its life ended', async () => {
    const { session } = await opened('a5');
    const qa = await session.module('qa', predict);
    const qb = await session.module('qb', predict);
    await (await (await fx().client()).session('a5')).delete();
    expect([qa.alive, qb.alive]).toEqual([true, true]);

    expect(await settledCode(session.getVariable('t'))).toBe('session_not_found');
    expect([qa.alive, qb.alive]).toEqual([false, false]);
  });

  it("turns false once a listener of the handle heard its session's life end", async () => {
    const { session } = await opened('a6');
    const qa = await session.module('qa', predict);
    const states: string[] = [];
    qa.onState((state) => states.push(state));
    await waitFor(() => states.length === 1, { message: 'the first state' });
    expect(qa.alive).toBe(true);

    await (await (await fx().client()).session('a6')).delete();
    await waitFor(() => qa.alive === false, { message: 'the end event reached the listener' });
  });

  it('follows the latest answer for a handle bound to no life: false once its session is gone, true once back', async () => {
    const { client } = await opened('a7');
    const unbound = await client.session('a7', { create: false });
    const qa = await unbound.module('qa', predict);
    await unbound.delete();
    expect(await settledCode(qa.describe())).toBe('session_not_found');
    expect(qa.alive).toBe(false);

    const next = await client.session('a7');
    await next.defineVariable('t', 'float', 0.5);
    await next.module('qa', predict);
    expect((await qa.describe()).moduleId).toBe('qa');
    expect(qa.alive).toBe(true);
  });

  it('stays true when no node answers: a timeout tells nothing of the module', async () => {
    const buckets = fx().buckets();
    const node = await fx().node(buckets, { llm: createEchoModel() });
    const session = await (await fx().client({ timeoutMs: 500 })).session('a8');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    await node.stop();

    expect(await settledCode(qa.describe())).toBe('noproc');
    expect(qa.alive).toBe(true);
  });
});
