import { describe, expect, it } from 'vitest';
import { ModuleRegistry, Predict, ValidationError, type ModuleTool } from '../../src/index.js';
import { assertSettingsApply } from '../../src/modules/type-settings.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('settings');

const signature = 'question:string -> answer:string';
const tool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

/** The refusal of creating module `m` with `spec`, or `undefined` when it was created. */
async function refusal(spec: object): Promise<unknown> {
  try {
    await session().module('m', spec as never);
  } catch (error) {
    return error;
  }
  await (await session().module('m')).stop();
  return undefined;
}

describe('a module spec of a fixed type', () => {
  it('refuses a setting its type never reads, naming it and the types that do, and creates nothing', async () => {
    const error = await refusal({ type: 'Predict', signature, maxSteps: 5 });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      message:
        'module type Predict does not use maxSteps (ReAct, ProgramOfThought do): leave it out, or give the spec ' +
        'a typeVariable to switch between types',
      details: { field: 'maxSteps', moduleType: 'Predict', usedBy: ['ReAct', 'ProgramOfThought'] },
    });
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toEqual([]);
  });

  it('refuses tools for a type that never calls them, and a binding of a setting its type never reads', async () => {
    await session().defineVariable('k', 'integer', 3);
    expect(await refusal({ type: 'ChainOfThought', signature, tools: [tool] })).toMatchObject({
      details: { field: 'tools', usedBy: ['ReAct'] },
    });
    expect(await refusal({ type: 'COT', signature, bindings: { samples: 'k' } })).toMatchObject({
      message: expect.stringMatching(/^module type ChainOfThought does not use samples \(MultiChainComparison does\)/),
      details: { field: 'bindings.samples', moduleType: 'ChainOfThought' },
    });
    expect(await refusal({ type: 'MultiChainComparison', signature, rounds: 2 })).toMatchObject({
      details: { field: 'rounds', usedBy: ['Refine'] },
    });
    expect(await session().modules()).toEqual([]);
  });

  it('takes the settings its type reads, no tools given as an empty list, and any setting with a type variable', async () => {
    await session().defineVariable('kind', 'module', 'Predict');
    await session().defineVariable('k', 'integer', 3);
    for (const spec of [
      { type: 'ReAct', signature, tools: [tool], maxSteps: 3 },
      { type: 'ProgramOfThought', signature, maxSteps: 3 },
      { type: 'BestOfN', signature, n: 2, threshold: 1, reward: () => 1 },
      { type: 'Refine', signature, rounds: 2, reward: () => 1 },
      { type: 'MultiChainComparison', signature, bindings: { samples: 'k' }, pick: () => 0 },
      { type: 'Predict', signature, tools: [] },
      { typeVariable: 'kind', signature, tools: [tool], maxSteps: 3, samples: 2 },
    ])
      expect(await refusal(spec)).toBeUndefined();
  });

  it('leaves a type of the user’s alone, even one extending a built-in: only the class knows what it reads', () => {
    const registry = ModuleRegistry.withBuiltins();
    class Stepwise extends Predict {}
    const entry = registry.register('Stepwise', Stepwise);
    expect(entry.uses).toBeUndefined();
    expect(() => assertSettingsApply(entry, { type: 'Stepwise', signature, maxSteps: 4 }, registry)).not.toThrow();
  });
});
