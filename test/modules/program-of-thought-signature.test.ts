/**
 * ProgramOfThought runs on Ax's `agent()`, which refuses signatures every other type takes: a signature-level
 * description, an output named `javascriptCode`, an input named like one of its own fields (`contextData`...). Such a
 * signature is refused at creation as a signature Ax refuses, and a type variable naming ProgramOfThought for it has
 * its sync refused, the module running on as it was.
 */
import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('pot-signature');

const DESCRIBED = '"Answer geography questions" question:string -> answer:string';

describe('ProgramOfThought signatures its agent refuses', () => {
  it.each([
    ['a signature-level description', DESCRIBED, 'signature-level descriptions'],
    ['an output named javascriptCode', 'task:string -> javascriptCode:string', 'javascriptCode'],
    ['an input named like an agent field', 'contextData:string -> answer:string', 'contextData'],
  ])('are refused at creation: %s', async (_, signature, said) => {
    const created = session().module('pot', { type: 'ProgramOfThought', signature, maxSteps: 1 });
    await expect(created).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining(`signature '${signature}' cannot run as ProgramOfThought: `),
      details: { field: 'signature' },
    });
    await expect(created).rejects.toThrow(said);
    expect(await session().modules()).toEqual([]);
    expect(stub().chatRequests).toEqual([]);
  });

  it('keep the old type when a type variable names ProgramOfThought', async () => {
    stub().fallback = () => text('Answer: Paris');
    await session().defineVariable('kind', 'module', 'Predict');
    const qa = await session().module('qa', { typeVariable: 'kind', signature: DESCRIBED, maxRetries: 0 });
    expect((await qa.execute({ question: 'q' })).output).toEqual({ answer: 'Paris' });
    await session().setVariable('kind', 'ProgramOfThought');
    // As for a type that cannot be built (ReAct without tools): the sync is refused, the execution runs as Predict.
    expect(await qa.execute({ question: 'q' })).toMatchObject({
      moduleType: 'Predict',
      output: { answer: 'Paris' },
      syncFailed: { code: 'validation_failed', details: { field: 'signature' } },
    });
  });
});
