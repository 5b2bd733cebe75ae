import { describe, expect, it } from 'vitest';
import { Runtime, createEchoModel, type Session } from '../../src/index.js';
import { ModuleInstance } from '../../src/modules/module-instance.js';
import { FakeSession } from '../support/fake-session.js';
import { text, useOpenAIStub, type OpenAIStub } from '../support/openai-stub.js';

const stubbed = useOpenAIStub();

/** Runs `test` in a session of an embedded runtime of its own whose LLM is the OpenAI stub. */
async function withSession(test: (session: Session, stub: OpenAIStub) => Promise<void>): Promise<void> {
  const runtime = await Runtime.start({ llm: stubbed.llm() });
  try {
    await test(await runtime.session('sync'), stubbed.stub());
  } finally {
    await runtime.stop();
  }
}

/** A module `qa` of type variable `kind`, its temperature bound to `temp`, whose callback records each change. */
async function typedModule(session: Session, calls: unknown[][]) {
  await session.defineVariable('temp', 'float', 0.5);
  await session.defineVariable('kind', 'module', 'Predict');
  return session.module('qa', {
    typeVariable: 'kind',
    signature: 'question:string -> answer:string',
    maxRetries: 0,
    bindings: { temperature: { variable: 'temp', onChange: (...args: unknown[]) => void calls.push(args) } },
  });
}

describe('module instance', () => {
  it('checks inputs against the type its type variable names now, which the execution swaps to first', () =>
    withSession(async (session, stub) => {
      stub.fallback = () => text('Reasoning: r\nAnswer: ok');
      const qa = await typedModule(session, []);
      // ChainOfThoughtWithHint takes a hint, Predict does not: the execution that swaps to it may give one.
      await session.setVariable('kind', 'ChainOfThoughtWithHint');
      const hinted = await qa.execute({ question: 'q', hint: 'h' });
      expect(hinted).toMatchObject({ moduleType: 'ChainOfThoughtWithHint', output: { answer: 'ok' } });
      // Back to Predict: a hint is refused before the execution is queued, as for a Predict module.
      await session.setVariable('kind', 'Predict');
      await expect(qa.execute({ question: 'q', hint: 'h' })).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining("'hint'"),
      });
      expect((await qa.describe()).failed).toBe(0);
      expect(await qa.execute({ question: 'q' })).toMatchObject({ moduleType: 'Predict' });
    }));

  for (const [refused, code, named] of [
    ['Bogus', 'unknown_module', "Unknown module type 'Bogus' (held by variable 'kind')"],
    ['ReAct', 'validation_failed', "module type 'ReAct' held by variable 'kind' needs at least one tool"],
    ['BestOfN', 'validation_failed', "module type 'BestOfN' held by variable 'kind' needs a reward function"],
  ] as const) {
    it(`applies nothing of a sync whose type variable names ${refused}, not even the other bindings`, () =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Reasoning: r\nAnswer: ok');
        const calls: unknown[][] = [];
        const qa = await typedModule(session, calls);
        await session.setVariables({ kind: refused, temp: 1.9 }, { atomic: true });
        const held = await qa.execute({ question: 'q' });
        // The provider gets the old temperature, no callback is called, and provenance names the old versions.
        expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.5]);
        expect(calls).toEqual([]);
        expect(held).toMatchObject({ moduleType: 'Predict', provenance: { temp: 1, kind: 1 } });
        expect(held.syncFailed).toMatchObject({
          code,
          message: expect.stringContaining(named),
          details: { variable: 'kind' },
        });
        // Once the type variable names a type that builds, the whole snapshot applies, callback included.
        await session.setVariable('kind', 'ChainOfThought');
        const applied = await qa.execute({ question: 'q' });
        expect(applied).not.toHaveProperty('syncFailed');
        expect(applied).toMatchObject({ moduleType: 'ChainOfThought', provenance: { temp: 2, kind: 3 } });
        expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.5, 1.9]);
        expect(calls).toEqual([['temperature', 0.5, 1.9]]);
      }));
  }

  it('keeps the type when a bound value of the same snapshot is refused', () =>
    withSession(async (session, stub) => {
      stub.fallback = () => text('Reasoning: r\nAnswer: ok');
      const calls: unknown[][] = [];
      const qa = await typedModule(session, calls);
      await session.setVariables({ kind: 'ChainOfThought', temp: 9 }, { atomic: true });
      const held = await qa.execute({ question: 'q' });
      expect(held).toMatchObject({ moduleType: 'Predict', provenance: { temp: 1, kind: 1 } });
      expect(held.syncFailed).toMatchObject({ code: 'validation_failed', details: { variable: 'temp' } });
      expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.5]);
      expect(calls).toEqual([]);
    }));

  it('names the session variable and the attribute when a bound value is refused', () =>
    withSession(async (session) => {
      await session.defineVariable('temp', 'float', 0.5);
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        bindings: { temperature: 'temp' },
      });
      await session.setVariable('temp', 5);
      const held = await qa.execute({ question: 'q' });
      expect(held.syncFailed).toEqual({
        code: 'validation_failed',
        message: "module setting 'temperature' must be a number from 0 to 2, got 5 (held by variable 'temp')",
        details: { field: 'temperature', variable: 'temp', value: 5, min: 0, max: 2, integer: false },
      });
      // A creation refused for a bound value names the variable the same way.
      await expect(
        session.module('other', {
          type: 'Predict',
          signature: 'question:string -> answer:string',
          bindings: { temperature: 'temp' },
        }),
      ).rejects.toMatchObject({ code: 'validation_failed', variable: 'temp', details: { field: 'temperature' } });
    }));

  it('names no variable in provenance for a bound value a wake could not read: the spec’s own value runs', async () => {
    const session = new FakeSession('woken');
    const spec = {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      temperature: 0.4,
      bindings: { temperature: 'temp' },
    } as const;
    const instance = await ModuleInstance.wake('qa', session, spec, { llm: createEchoModel() });
    await expect(instance.sync()).rejects.toMatchObject({ code: 'variable_not_found' });
    const held = await instance.execute({ question: 'q' }, new AbortController().signal);
    expect(held.provenance).toEqual({});
    expect(held.output.answer).toContain('temperature=0.4');
    await session.setVariable('temp', 0.9);
    expect((await instance.sync()).changes).toEqual({ temperature: [0.4, 0.9] });
    const applied = await instance.execute({ question: 'q' }, new AbortController().signal);
    expect(applied.provenance).toEqual({ temp: 1 });
    expect(applied.output.answer).toContain('temperature=0.9');
  });

  describe('a type variable naming a type the module cannot switch to', () => {
    /** The types a module without a reward or tools can switch to: BestOfN, Refine and ReAct need what it lacks. */
    const plain = ['Predict', 'ChainOfThought', 'ChainOfThoughtWithHint', 'ProgramOfThought', 'MultiChainComparison'];

    it('lists only the types the variable can select when it names no type', () =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Answer: ok');
        const qa = await typedModule(session, []);
        await session.setVariable('kind', 'Bogus');
        const { syncFailed } = await qa.execute({ question: 'q' });
        expect(syncFailed).toEqual({
          code: 'unknown_module',
          message: `Unknown module type 'Bogus' (held by variable 'kind'); available: ${plain.join(', ')}`,
          details: { moduleType: 'Bogus', available: plain, variable: 'kind', field: 'typeVariable' },
        });
        // A creation whose type variable names no type lists the same.
        await expect(
          session.module('other', { typeVariable: 'kind', signature: 'question:string -> answer:string' }),
        ).rejects.toMatchObject({ code: 'unknown_module', details: { available: plain } });
      }));

    it('names the spec field typeVariable when its variable is gone or holds no name', () =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Answer: ok');
        await session.defineVariable('n', 'integer', 1);
        await expect(
          session.module('numbered', { typeVariable: 'n', signature: 'question:string -> answer:string' }),
        ).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'typeVariable', variable: 'n' } });
        const qa = await typedModule(session, []);
        await session.deleteVariable('kind');
        const { syncFailed } = await qa.execute({ question: 'q' });
        expect(syncFailed).toMatchObject({
          code: 'variable_not_found',
          details: { variable: 'kind', field: 'typeVariable' },
        });
      }));

    it.each(['BestOfN', 'refine'])('says %s needs a reward the spec does not have, and what it can select', (type) =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Answer: ok');
        const qa = await typedModule(session, []);
        await session.setVariable('kind', type);
        const held = await qa.execute({ question: 'q' });
        const name = type === 'refine' ? 'Refine' : type;
        expect(held.moduleType).toBe('Predict');
        expect(held.syncFailed).toEqual({
          code: 'validation_failed',
          message:
            `module type '${name}' held by variable 'kind' needs a reward function, and this module's spec has none: ` +
            'a variable cannot hold a function, so only a module created embedded (in the process that runs it) ' +
            `with a reward in its spec can switch to it; the types it can select: ${plain.join(', ')}`,
          details: { field: 'reward', constraint: 'required', moduleType: name, selectable: plain, variable: 'kind' },
        });
      }),
    );

    it('counts an empty tools list as none: the variable can neither select ReAct nor switch to it', () =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Answer: ok');
        await session.defineVariable('kind', 'module', 'Predict');
        const qa = await session.module('qa', {
          typeVariable: 'kind',
          signature: 'question:string -> answer:string',
          maxRetries: 0,
          tools: [],
        });
        await session.setVariable('kind', 'ReAct');
        const held = await qa.execute({ question: 'q' });
        expect(held.moduleType).toBe('Predict');
        expect(held.syncFailed).toMatchObject({
          code: 'validation_failed',
          message: expect.stringContaining("module type 'ReAct' held by variable 'kind' needs at least one tool"),
          details: { selectable: plain, variable: 'kind' },
        });
      }));

    it('switches to BestOfN and lists it when the spec has a reward', () =>
      withSession(async (session, stub) => {
        stub.fallback = () => text('Answer: ok');
        await session.defineVariable('kind', 'module', 'Predict');
        const qa = await session.module('qa', {
          typeVariable: 'kind',
          signature: 'question:string -> answer:string',
          maxRetries: 0,
          reward: () => 1,
        });
        await session.setVariable('kind', 'Nope');
        const nope = await qa.execute({ question: 'q' });
        expect(nope.syncFailed).toMatchObject({
          code: 'unknown_module',
          details: {
            available: [...plain.slice(0, 3), 'ProgramOfThought', 'BestOfN', 'Refine', 'MultiChainComparison'],
          },
        });
        await session.setVariable('kind', 'BestOfN');
        const best = await qa.execute({ question: 'q' });
        expect(best).not.toHaveProperty('syncFailed');
        expect(best.moduleType).toBe('BestOfN');
      }));
  });
});
