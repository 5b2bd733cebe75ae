import { describe, expect, it } from 'vitest';
import { UnknownModuleError, createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** What a module created over NATS can switch to: no spec sent over NATS has a reward, and this one has no tools. */
const SELECTABLE = ['Predict', 'ChainOfThought', 'ChainOfThoughtWithHint', 'ProgramOfThought', 'MultiChainComparison'];

describe('module type variable over NATS', () => {
  it('lists only the types the variable can select, and says why BestOfN and Refine are not among them', async () => {
    await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('typed');
    await session.defineVariable('kind', 'module', 'Predict');
    const qa = await session.module('qa', { typeVariable: 'kind', signature: 'question:string -> answer:string' });

    await session.setVariable('kind', 'Nope');
    const nope = await qa.execute({ question: 'q' });
    expect(nope.moduleType).toBe('Predict');
    expect(nope.syncFailed).toEqual({
      code: 'unknown_module',
      message: `Unknown module type 'Nope' (held by variable 'kind'); available: ${SELECTABLE.join(', ')}`,
      details: { moduleType: 'Nope', available: SELECTABLE, variable: 'kind', field: 'typeVariable' },
    });

    for (const type of ['BestOfN', 'Refine']) {
      await session.setVariable('kind', type);
      const held = await qa.execute({ question: 'q' });
      expect(held.moduleType).toBe('Predict');
      expect(held.syncFailed).toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(
          new RegExp(
            `^module type '${type}' held by variable 'kind' needs a reward function, and this module's spec has none: a variable cannot hold a function`,
          ),
        ),
        details: {
          field: 'reward',
          constraint: 'required',
          moduleType: type,
          selectable: SELECTABLE,
          variable: 'kind',
        },
      });
    }
  });
  it("takes the inputs of the type the variable names now, over the wire too (ChainOfThoughtWithHint's hint)", async () => {
    await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('hinted');
    await session.defineVariable('kind', 'module', 'Predict');
    const qa = await session.module('qa', { typeVariable: 'kind', signature: 'question:string -> answer:string' });
    await qa.execute({ question: 'q' });
    await session.setVariable('kind', 'ChainOfThoughtWithHint');
    expect((await qa.execute({ question: 'q', hint: 'h' })).moduleType).toBe('ChainOfThoughtWithHint');
    await session.setVariable('kind', 'Predict');
    await expect(qa.execute({ question: 'q', hint: 'h' })).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await qa.describe()).toMatchObject({ moduleType: 'ChainOfThoughtWithHint', failed: 0 });
  });

  it('refuses a create whose type variable names no type with the details an embedded create has (found in review)', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const spec = { typeVariable: 'kind', signature: 'question:string -> answer:string' };
    const embedded = await node.session('unknown-here');
    const remote = await (await fx().client()).session('unknown-there');
    for (const session of [embedded, remote]) await session.defineVariable('kind', 'string', 'NoSuchType');

    const here = await embedded.module('qa', spec).catch((error: unknown) => error);
    const there = await remote.module('qa', spec).catch((error: unknown) => error);
    expect(there).toBeInstanceOf(UnknownModuleError);
    const named = { moduleType: 'NoSuchType', variable: 'kind', field: 'typeVariable' };
    expect(here).toMatchObject({ code: 'unknown_module', details: named });
    // Over the wire only the types a JSON spec can select are offered; the rest of the details are the same.
    expect(there).toMatchObject({
      code: 'unknown_module',
      message: `Unknown module type 'NoSuchType' (held by variable 'kind'); available: ${SELECTABLE.join(', ')}`,
      details: { ...named, available: SELECTABLE },
    });
    expect(await remote.modules()).toEqual([]);
  });

  it('is described by a node with no process of it as a wake there would answer: refused for a type it cannot be', async () => {
    const buckets = fx().buckets();
    const first = await fx().node(buckets, { llm: createEchoModel() });
    const raw = (operation: string, body: object) =>
      rawReply(nc(), `tether.v1.session.unbuilt.${operation}`, JSON.stringify(body));
    await raw('open', {});
    await raw('var.define', { name: 'kind', type: 'module', value: 'Predict' });
    const spec = { typeVariable: 'kind', signature: 'question:string -> answer:string' };
    expect((await raw('module.qa.create', { spec })).body.result).toMatchObject({ moduleType: 'Predict' });
    // The node that created it stops: the only node left has no process of the module, and could only wake it.
    await first.stop();
    await fx().node(buckets, { llm: createEchoModel() });
    for (const [type, need] of [
      ['ReAct', 'tools'],
      ['BestOfN', 'reward'],
    ] as const) {
      await raw('var.set', { name: 'kind', value: type });
      const executed = await raw('module.qa.execute', { inputs: { question: 'q' } });
      const described = await raw('module.qa.describe', {});
      const refusal = {
        code: 'validation_failed',
        details: { field: need, constraint: 'required', moduleType: type, selectable: SELECTABLE, variable: 'kind' },
      };
      expect(executed.body.error).toMatchObject(refusal);
      // Not a description of a type no node can run it as: the refusal an execute woken here gets.
      expect(described.errorCode).toBe('400');
      expect(described.body.error).toEqual(executed.body.error);
    }
    // A type it can be is described again.
    await raw('var.set', { name: 'kind', value: 'ChainOfThought' });
    expect((await raw('module.qa.describe', {})).body.result).toMatchObject({ moduleType: 'ChainOfThought' });
  });
});
