import { describe, expect, it } from 'vitest';
import { createEchoModel, type ModuleTool } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { servedBy } from '../support/tether-node.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const chain = { type: 'ChainOfThought', signature: 'question:string -> reply:string' } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
const decoder = new TextDecoder();

describe('module stop reaching the right processes', () => {
  it('stops a module that stays on its node from whichever node the stop request reaches', async () => {
    const buckets = fx().buckets();
    const a = await fx().node(buckets, { llm: createEchoModel() });
    const b = await fx().node(buckets, { llm: createEchoModel() });
    const session = await a.runtime.session('s1');
    let servedByB = false;
    // The queue group picks the node: stops go on until one has reached node B, which has neither spec nor process.
    for (let i = 0; i < 30 && !servedByB; i++) {
      const moduleId = `local${i}`;
      // A spec holding a function cannot be rebuilt elsewhere: only node A has this module.
      await session.module(moduleId, { ...predict, type: 'ReAct', tools: [echoTool] });

      const [reply, node] = await servedBy([a, b], () =>
        nc().request(`tether.v1.session.s1.module.${moduleId}.stop`, new Uint8Array(), { timeout: 5000 }),
      );

      servedByB = node === b;
      expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      expect(JSON.parse(decoder.decode(reply.data)).result).toEqual({ stopped: true });
      expect(a.runtime.whereis(moduleProcessName('s1', moduleId))).toBeUndefined();
    }
    expect(servedByB).toBe(true);
  });

  it('answers module_not_found when no node has the module', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    await fx().node(buckets, { llm: createEchoModel() });
    await (await fx().client()).session('s1');

    const reply = await nc().request('tether.v1.session.s1.module.ghost.stop', new Uint8Array(), { timeout: 5000 });

    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('404');
    expect(JSON.parse(decoder.decode(reply.data)).error.code).toBe('module_not_found');
  });

  it("leaves a module created again running when the old spec's stop reaches a node late", async () => {
    const buckets = fx().buckets();
    const node = await fx().node(buckets, { llm: createEchoModel() });
    const client = await fx().client();
    const session = await client.session('s1');
    const modules = await nc().jetstream().views.kv(buckets.modulesBucket);
    await (await session.module('qa', predict)).stop();
    const removedRevision = (await modules.get('s1.qa'))!.revision - 1;
    const again = await session.module('qa', chain);
    const name = moduleProcessName('s1', 'qa');
    const process = node.runtime.whereis(name);
    expect(process).toBeDefined();

    // What a stop of the removed spec looks like when its control message reaches this node after the creation.
    nc().publish(
      createSubjects().moduleControl('s1', 'qa', 'stop'),
      new TextEncoder().encode(JSON.stringify({ revision: removedRevision })),
    );
    await nc().flush();
    // Sent after the stop message, so taken after it: an unfixed node has stopped its process by then.
    for (let i = 0; i < 3; i++)
      expect((await again.execute({ question: 'still there?' })).moduleType).toBe('ChainOfThought');

    expect(node.runtime.whereis(name)).toBe(process);
  });
});
