import { describe, expect, it, onTestFinished } from 'vitest';
import { createEchoModel, type ModuleEvent } from '../../src/index.js';
import { startHoldingProxy, type HoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const { stub, llm } = useOpenAIStub();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

type Heard = [string, string | undefined][];

/**
 * A node, and a client whose `describe` requests of session `sessionId` wait at a proxy while the test holds them
 * (everything else passes): an `onState` read then answers after the changes published meanwhile.
 */
async function heldReads(sessionId: string, nodeOptions: Parameters<ReturnType<typeof fx>['runtime']>[1] = {}) {
  const node = await fx().runtime(fx().buckets(), { llm: createEchoModel(), ...nodeOptions });
  const proxy: HoldingProxy = await startHoldingProxy(fx().server.url, (subject) =>
    subject.endsWith(`.session.${sessionId}.module.qa.describe`),
  );
  onTestFinished(() => proxy.close());
  const told: unknown[] = [];
  const client = await fx().client({ servers: proxy.url, onError: (error) => told.push(error) });
  const session = await client.session(sessionId);
  await session.defineVariable('t', 'float', 0.5);
  const qa = await session.module('qa', predict);
  return { node, proxy, told, session, qa };
}

describe('RemoteModuleHandle.onState', () => {
  it('tells the state it read first, then the changes published while the read was on its way', async () => {
    const { proxy, qa } = await heldReads('st1');
    const heard: Heard = [];
    const results: ModuleEvent[] = [];
    qa.on('module.result', (event) => results.push(event));
    proxy.hold();
    qa.onState((state, executionId) => heard.push([state, executionId]));
    // Runs whole while the read waits at the proxy: its changes reach the client first.
    const { executionId } = await qa.execute({ question: 'Why is the sky blue?' });
    await waitFor(() => results.length === 1, { message: 'the result event' });
    expect(heard).toEqual([]);
    proxy.release();

    // As the README's example and an embedded handle have it: the current state first, then every change.
    await waitFor(() => heard.length === 4, { message: 'the state read and three changes' });
    expect(heard).toEqual([
      ['idle', undefined],
      ['syncing', executionId],
      ['executing', executionId],
      ['idle', undefined],
    ]);
  });

  it('leaves out the changes the state it read already includes', async () => {
    const { proxy, qa } = await heldReads('st2', { llm: llm() });
    stub().hold();
    const synced: string[] = [];
    qa.on('module.synced', (event) => synced.push(event.executionId));
    proxy.hold();
    const heard: Heard = [];
    qa.onState((state, executionId) => heard.push([state, executionId]));
    const execution = qa.execute({ question: 'held' });
    // Its `syncing` and `executing` are published before the read reaches the node, which then reads `executing`.
    await waitFor(() => synced.length === 1 && stub().chatRequests.length === 1, { message: 'the execution runs' });
    proxy.release();
    await waitFor(() => heard.length === 1, { message: 'the state read' });
    const executionId = synced[0];
    expect(heard).toEqual([['executing', executionId]]);

    stub().release();
    await execution;
    await waitFor(() => heard.length === 2, { message: 'back to idle' });
    expect(heard).toEqual([
      ['executing', executionId],
      ['idle', undefined],
    ]);
  });

  it('calls no listener of a module found gone, and tells onError nothing, as an embedded handle of it', async () => {
    const { node, told, session, qa } = await heldReads('st3');
    const local = await (await node.session('st3')).module('qa');
    const found = await session.module('qa');
    await found.stop();
    await waitFor(() => !local.alive, { message: "the node's own handle of the module ended" });

    const heard: string[] = [];
    const handles = { remote: qa, stopped: found, embedded: local };
    for (const [kind, handle] of Object.entries(handles)) handle.onState((state) => heard.push(`${kind}: ${state}`));
    // Its read answered module_not_found: the handle knows the module is gone.
    await waitFor(() => !qa.alive, { message: 'the read of the state answered' });
    await session.getVariable('t');
    expect(heard).toEqual([]);
    expect(told).toEqual([]);
  });
});
