import { describe, expect, it } from 'vitest';
import { ModuleNotFoundError, Runtime, createEchoModel, type ModuleTool } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const chain = { type: 'ChainOfThought', signature: 'question:string -> reply:string' } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

/** Two nodes on fresh buckets, with the offline model. */
async function twoNodes() {
  const buckets = fx().buckets();
  return {
    a: await fx().runtime(buckets, { llm: createEchoModel() }),
    b: await fx().runtime(buckets, { llm: createEchoModel() }),
  };
}

const runs = (runtime: Runtime, moduleId: string) => runtime.whereis(moduleProcessName('s1', moduleId)) !== undefined;

describe('embedded module lookup on a NATS node', () => {
  it('finds a module created through another node, and runs it here', async () => {
    const { a, b } = await twoNodes();
    await (await a.session('s1')).module('qa', chain);
    expect(runs(b, 'qa')).toBe(false);

    const qa = await (await b.session('s1')).module('qa');

    expect(runs(b, 'qa')).toBe(true);
    const result = await qa.execute({ question: 'x' });
    expect(result.moduleType).toBe('ChainOfThought');
    expect(Object.keys(result.output)).toContain('reply');
  });

  it('lists the modules running on this node, those it woke included', async () => {
    const { a, b } = await twoNodes();
    await (await a.session('s1')).module('qa', predict);
    await (await a.session('s1')).module('qc', predict);
    const onB = await b.session('s1');
    await onB.module('qb', chain);
    expect((await onB.modules()).map((handle) => handle.moduleId)).toEqual(['qb']);

    await onB.module('qa');

    expect((await onB.modules()).map((handle) => handle.moduleId)).toEqual(['qa', 'qb']);
    expect(runs(b, 'qc')).toBe(false);
  });

  it('lists modules sorted by id, as a client lists them, whatever order they started in', async () => {
    const memory = await Runtime.start({ llm: createEchoModel(), onError: () => {} });
    try {
      const { a } = await twoNodes();
      const client = await fx().client();
      // Three sessions: the node's and the client's share one cluster.
      const handles = [await memory.session('s1'), await a.session('s2'), await client.session('s3')];
      for (const session of handles)
        for (const moduleId of ['qc', 'qa', 'Qz', 'q-b']) await session.module(moduleId, predict);
      const listed = await Promise.all(
        handles.map(async (session) => (await session.modules()).map((handle) => handle.moduleId)),
      );
      // Code-unit order: capitals before lower case, `-` before letters.
      expect(listed).toEqual([0, 1, 2].map(() => ['Qz', 'q-b', 'qa', 'qc']));
    } finally {
      await memory.stop();
    }
  });

  it('says module_not_found for a module no node created, one stopped everywhere, and one that stays on its node', async () => {
    const { a, b } = await twoNodes();
    const onA = await a.session('s1');
    await (await onA.module('gone', predict)).stop();
    // A spec holding a function cannot be rebuilt elsewhere: only node A has that module.
    await onA.module('local', { ...predict, type: 'ReAct', tools: [echoTool] });
    const onB = await b.session('s1');

    for (const moduleId of ['never', 'gone', 'local']) {
      await expect(onB.module(moduleId)).rejects.toBeInstanceOf(ModuleNotFoundError);
      expect(runs(b, moduleId)).toBe(false);
    }
    await expect(onB.module('not.an.id')).rejects.toMatchObject({ code: 'validation_failed' });
    expect((await onB.modules()).map((handle) => handle.moduleId)).toEqual([]);
    expect((await onA.modules()).map((handle) => handle.moduleId)).toEqual(['local']);
  });
});
