/**
 * What `forward()` of the library's module classes (the DSPy-like API, no runtime) refuses before it asks the
 * provider anything: inputs that are no object of fields, and a signal aborted before the call. Found by the error
 * paths audit: neither refusal was held by a test.
 */
import { describe, expect, it } from 'vitest';
import { InternalError, ValidationError } from '../../src/errors.js';
import { Predict, VariableAwarePredict, type FieldValues } from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';

const SIGNATURE = 'question:string -> answer:string';
const { stub, llm } = useOpenAIStub();

/** What `run` rejected with; the test fails if it fulfilled. */
async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    (value) => expect.fail(`fulfilled with ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

describe('forward()', () => {
  it('refuses inputs that are no object of fields, naming forward(), and sends nothing', async () => {
    const session = new FakeSession();
    await session.setVariable('llm_temperature', 0.5);
    const aware = new VariableAwarePredict(SIGNATURE, { llm: llm(), session });
    await aware.bindToVariable('temperature', 'llm_temperature');
    const modules = [new Predict(SIGNATURE, { llm: llm() }), aware];
    for (const module of modules) {
      for (const inputs of [null, undefined, 'q', 42, ['q']]) {
        const error = await rejection(() => module.forward(inputs as unknown as FieldValues));
        expect(error, `${module.constructor.name} ${JSON.stringify(inputs)}`).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({
          code: 'validation_failed',
          message: 'forward() takes an object of input fields',
        });
      }
    }
    expect(stub().chatRequests).toEqual([]);
  });

  it('rejects at once when its signal was aborted before the call, with the reason given, and sends nothing', async () => {
    stub().fallback = () => text('Answer: too late');
    const module = new Predict(SIGNATURE, { llm: llm() });
    const inputs = { question: 'q' };
    // A reason that is no Error is said in an InternalError: forward() has no module id nor execution id to name.
    const error = await rejection(() => module.forward(inputs, { abortSignal: AbortSignal.abort('not now') }));
    expect(error).toBeInstanceOf(InternalError);
    expect(error).toMatchObject({ code: 'internal_error', message: 'execution aborted: not now' });
    // An Error given as the reason is what the caller gets back, unwrapped.
    const reason = new Error('batch cancelled');
    expect(await rejection(() => module.forward(inputs, { abortSignal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(stub().chatRequests).toEqual([]);
  });
});
