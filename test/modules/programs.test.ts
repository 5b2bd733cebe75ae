import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  BestOfN,
  ChainOfThought,
  ChainOfThoughtWithHint,
  MultiChainComparison,
  Predict,
  ProgramOfThought,
  ReAct,
  Refine,
  VariableAwareMultiChainComparison,
  VariableAwareReAct,
  LanguageModel,
  createEchoModel,
} from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';

const llm = createEchoModel();
const SIGNATURE = 'question:string -> answer:string';

describe('programs', () => {
  it('sends constructor parameters with every call', async () => {
    const module = new Predict(SIGNATURE, {
      llm,
      temperature: 0.2,
      maxTokens: 64,
      model: 'small',
      thinkingTokenBudget: 'low',
    });
    const { output, provenance } = await module.forward({ question: 'q' });
    expect(output.answer).toBe(
      '[tether-echo] Question: q | model=small temperature=0.2 maxTokens=64 thinkingTokenBudget=low',
    );
    expect(provenance).toEqual({});
  });

  it('fills every output field of its type', async () => {
    const module = new Predict(
      'question:string -> answer:string, score:number, approved:boolean, tags:string[], due:date, kind:class "small, large"',
      { llm },
    );
    const { output } = await module.forward({ question: 'q' });
    expect(output).toMatchObject({ score: 0, approved: false, kind: 'small' });
    expect(output.tags).toHaveLength(1);
    expect(output.due).toEqual(new Date('1970-01-01T00:00:00.000Z'));
  });

  it('keeps ChainOfThought reasoning out of the output', async () => {
    const { output, reasoning } = await new ChainOfThought(SIGNATURE, { llm }).forward({ question: 'q' });
    expect(Object.keys(output)).toEqual(['answer']);
    expect(reasoning).toContain('[tether-echo]');
  });

  it('passes the hint of ChainOfThoughtWithHint to the model', async () => {
    const { output } = await new ChainOfThoughtWithHint(SIGNATURE, { llm }).forward({
      question: 'q',
      hint: 'use units',
    });
    expect(output.answer).toContain('Hint: use units');
  });

  it('refuses a signature of its own hint to ChainOfThoughtWithHint, naming the signature', () => {
    const build = () => new ChainOfThoughtWithHint('question:string, hint:string -> answer:string', { llm });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/^signature '.*' cannot take the chain_of_thought_with_hint fields: .*hint/);
    expect(() => build()).toThrow(expect.objectContaining({ details: { field: 'signature' } }));
  });

  it('refuses ReAct without tools with a clear error, naming where tools are given embedded and from the CLI', () => {
    expect(() => new ReAct(SIGNATURE, { llm })).toThrow(ValidationError);
    expect(() => new VariableAwareReAct(SIGNATURE, { llm })).toThrow(
      "ReAct needs at least one tool (a module spec's tools, a module class's options.tools, or tether module " +
        'create --tool <name>); ' +
        'without tools use Predict or ChainOfThought',
    );
  });

  it('refuses BestOfN and Refine without a reward', () => {
    expect(() => new BestOfN(SIGNATURE, { llm })).toThrow(/reward/);
    expect(() => new Refine(SIGNATURE, { llm })).toThrow(/reward/);
  });

  it('runs BestOfN and Refine with a reward', async () => {
    let scored = 0;
    const reward = () => {
      scored++;
      return 1;
    };
    expect((await new BestOfN(SIGNATURE, { llm, n: 2, reward }).forward({ question: 'q' })).output.answer).toContain(
      'q',
    );
    expect(
      (await new Refine(SIGNATURE, { llm, rounds: 2, reward, threshold: 1 }).forward({ question: 'q' })).output.answer,
    ).toContain('q');
    expect(scored).toBeGreaterThan(0);
  });

  it('lets MultiChainComparison pick among its samples', async () => {
    const seen: number[] = [];
    const module = new MultiChainComparison(SIGNATURE, {
      llm,
      samples: 3,
      pick: (samples) => {
        seen.push(samples.length);
        return 2;
      },
    });
    expect((await module.forward({ question: 'q' })).output.answer).toContain('q');
    expect(seen).toEqual([3]);
    const session = new FakeSession('s', { t: 0.5 });
    const aware = new VariableAwareMultiChainComparison(SIGNATURE, { llm, session });
    await aware.bindToVariable('temperature', 't');
    expect((await aware.forward({ question: 'q' })).output.answer).toContain('temperature=0.5');
  });

  it('answers deterministically: equal requests, equal answers', async () => {
    const module = new Predict(SIGNATURE, { llm, temperature: 0.5 });
    const [a, b] = await Promise.all([module.forward({ question: 'same' }), module.forward({ question: 'same' })]);
    expect(a.output).toEqual(b.output);
  });

  it('runs ProgramOfThought on Ax agent with the parameters on every request', async () => {
    const module = new ProgramOfThought(SIGNATURE, { llm, temperature: 0.3, model: 'coder' });
    const { output } = await module.forward({ question: 'what is 2 + 3?' });
    expect(output.answer).toContain('model=coder temperature=0.3');
  });

  it('refuses, as a rejected execution, a language model that was not built by createLanguageModel', async () => {
    const module = new Predict(SIGNATURE, { llm: new LanguageModel('handmade', undefined) });
    const execution = module.forward({ question: 'why?' });
    await expect(execution).rejects.toBeInstanceOf(ValidationError);
    await expect(execution).rejects.toThrow(/not built by createLanguageModel/);
  });

  it('rejects an invalid signature or parameter at construction', () => {
    expect(() => new Predict('question ->', { llm })).toThrow(ValidationError);
    expect(() => new Predict(SIGNATURE, { llm, temperature: Number.NaN })).toThrow(/temperature/);
  });

  it('rejects a count out of its range at construction, before Ax allocates anything for it', () => {
    const reward = () => 1;
    expect(() => new MultiChainComparison(SIGNATURE, { llm, samples: 1e9 })).toThrow(
      "module setting 'samples' must be an integer from 1 to 32, got 1000000000",
    );
    expect(() => new MultiChainComparison(SIGNATURE, { llm, samples: -3 })).toThrow(ValidationError);
    expect(() => new BestOfN(SIGNATURE, { llm, reward, n: 0 })).toThrow(/'n' must be an integer from 1 to 32/);
    expect(() => new Refine(SIGNATURE, { llm, reward, rounds: 1.5 })).toThrow(/'rounds'/);
    expect(() => new Refine(SIGNATURE, { llm, reward, threshold: Number.NaN })).toThrow(/'threshold'/);
    expect(() => new Predict(SIGNATURE, { llm, maxSteps: 1e6 })).toThrow(/'maxSteps' must be an integer from 1 to 100/);
    expect(() => new Predict(SIGNATURE, { llm, maxTokens: 0 })).toThrow(/'maxTokens'/);
    expect(new MultiChainComparison(SIGNATURE, { llm, samples: 32 })).toBeInstanceOf(MultiChainComparison);
  });
});
