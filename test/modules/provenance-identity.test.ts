import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('renewed');

// Found by a review: provenance gave the version of the value used under the variable's name, whatever variable now
// held that name.
describe('the provenance of a value whose variable was deleted and defined again', () => {
  it('names no version for a value of the old variable, which a refused sync kept: the new one’s would be another value', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('temp', 'float', 0.7);
    await session().defineVariable('tokens', 'integer', 100);
    const qa = await session().module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'temp', maxTokens: 'tokens' },
      maxRetries: 0,
    });
    expect((await qa.execute({ question: 'first' })).provenance).toEqual({ temp: 1, tokens: 1 });

    // temp is a new variable (version 1: 0.9); tokens holds what maxTokens cannot take, so the sync applies nothing
    // and the execution runs on what the module had: the old temp's 0.7.
    await session().deleteVariable('temp');
    await session().defineVariable('temp', 'float', 0.9);
    await session().setVariable('tokens', 0);
    const refused = await qa.execute({ question: 'second' });
    expect(refused.syncFailed?.code).toBe('validation_failed');
    expect(stub().chatRequests.at(-1)!.body.temperature).toBe(0.7);
    expect(refused.provenance).toEqual({ tokens: 1 });

    // Once a sync applies the new variable, its versions are named again.
    await session().setVariable('tokens', 50);
    const applied = await qa.execute({ question: 'third' });
    expect(stub().chatRequests.at(-1)!.body.temperature).toBe(0.9);
    expect(applied.provenance).toEqual({ temp: 1, tokens: 3 });
  });

  it('names the new variable’s version when it was defined again with the value and version the module holds', async () => {
    stub().fallback = () => text('Answer: ok');
    await session().defineVariable('temp', 'float', 0.7);
    const qa = await session().module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'temp' },
      maxRetries: 0,
    });
    expect((await qa.execute({ question: 'first' })).provenance).toEqual({ temp: 1 });

    // The new temp's version 1 holds 0.7 too: the value the module runs on is that version's, and is named so.
    await session().deleteVariable('temp');
    await session().defineVariable('temp', 'float', 0.7);
    const again = await qa.execute({ question: 'second' });
    expect(again.syncFailed).toBeUndefined();
    expect(again.provenance).toEqual({ temp: 1 });
  });
});

// Found by the provenance audit: the type variable's version was kept as the binding's was before, by name alone.
describe('the provenance of a type whose type variable was deleted and defined again', () => {
  it('names no version of the type variable while the program runs the old one’s type', async () => {
    stub().fallback = () => text('Reasoning: r\nAnswer: ok');
    await session().defineVariable('kind', 'module', 'Predict');
    const qa = await session().module('typed', {
      typeVariable: 'kind',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
    });
    await session().setVariable('kind', 'ChainOfThought');
    expect(await qa.execute({ question: 'first' })).toMatchObject({
      moduleType: 'ChainOfThought',
      provenance: { kind: 2 },
    });

    // The new 'kind' (version 1) names no type: the sync is refused and the program stays a ChainOfThought, which
    // the old variable's version 2 selected. Version 2 of the new one, once written, may name any other type.
    await session().deleteVariable('kind');
    await session().defineVariable('kind', 'module', 'NoSuchType');
    const refused = await qa.execute({ question: 'second' });
    expect(refused.syncFailed?.code).toBe('unknown_module');
    expect(refused.moduleType).toBe('ChainOfThought');
    expect(refused.provenance).toEqual({});

    await session().setVariable('kind', 'Predict');
    const applied = await qa.execute({ question: 'third' });
    expect(applied).toMatchObject({ moduleType: 'Predict', provenance: { kind: 2 } });
  });
});
