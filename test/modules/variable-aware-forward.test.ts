import { describe, expect, it } from 'vitest';
import { Predict, VariableAwareMixin, createEchoModel } from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';
import { setup } from '../support/variable-aware-predict.js';

describe('VariableAwareMixin', () => {
  it('forward syncs first and sends the new value', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    await session.setVariable('llm_temperature', 0.9);
    const result = await module.forward({ question: 'why?' });
    expect(module.temperature).toBe(0.9);
    expect(result.output.answer).toContain('temperature=0.9');
    expect(result.provenance).toEqual({ llm_temperature: 2 });
  });

  it('hands out a frozen provenance, which follows every change of version', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    const first = (await module.forward({ question: 'a' })).provenance;
    expect(Object.isFrozen(first)).toBe(true);
    expect((await module.forward({ question: 'b' })).provenance).toEqual({ llm_temperature: 1 });
    await session.setVariable('llm_temperature', 0.9);
    expect((await module.forward({ question: 'c' })).provenance).toEqual({ llm_temperature: 2 });
    await module.bindToVariable('maxTokens', 'max_tokens');
    expect((await module.forward({ question: 'd' })).provenance).toEqual({ llm_temperature: 2, max_tokens: 1 });
    module.unbindVariable('temperature');
    expect((await module.forward({ question: 'e' })).provenance).toEqual({ max_tokens: 1 });
    expect(first).toEqual({ llm_temperature: 1 });
  });

  it('forward with autoSync: false keeps the current values', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    await session.setVariable('llm_temperature', 0.9);
    const result = await module.forward({ question: 'why?' }, { autoSync: false });
    expect(result.output.answer).toContain('temperature=0.7');
    expect(result.provenance).toEqual({ llm_temperature: 1 });
  });

  it('makes any module class variable-aware', async () => {
    class Summarize extends Predict {
      static override readonly moduleType: string = 'Summarize';
    }
    const VariableAwareSummarize = VariableAwareMixin(Summarize);
    const session = new FakeSession('s', { llm_temperature: 0.4 });
    const module = new VariableAwareSummarize('document:string -> summary:string', { session, llm: createEchoModel() });
    await module.bindToVariable('temperature', 'llm_temperature');
    const result = await module.forward({ document: 'a long text' });
    expect(module.moduleType).toBe('Summarize');
    expect(result.output.summary).toContain('temperature=0.4');
  });

  it('runs concurrent forwards on one module with their own values', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    const results = await Promise.all(['one', 'two', 'three', 'four'].map((question) => module.forward({ question })));
    expect(results.map((r) => String(r.output.answer).split(' |')[0])).toEqual([
      '[tether-echo] Question: one',
      '[tether-echo] Question: two',
      '[tether-echo] Question: three',
      '[tether-echo] Question: four',
    ]);
    expect(session.reads).toBe(5);
  });
});
