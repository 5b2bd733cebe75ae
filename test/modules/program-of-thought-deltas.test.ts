import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('pot-deltas');

/**
 * README (Module processes): "streamed deltas (the provider is asked to stream only while a `module.delta` listener is
 * attached ...; a text field's deltas add up to its value (a list, number or date field has none)". A ProgramOfThought
 * answer is its responder stage's, whose text fields stream too (found by a review: it streamed and told nothing).
 */
describe('a ProgramOfThought module with a module.delta listener', () => {
  it("streams its text output field's deltas, which add up to the value, as every other type does", async () => {
    stub().fallback = () => text('Answer: the answer text');
    const pot = await session().module('pot', {
      type: 'ProgramOfThought',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
      maxSteps: 1,
    });
    const deltas: { field: string; delta: string; restart?: boolean }[] = [];
    pot.on('module.delta', (event) => deltas.push(event));
    const { output } = await pot.execute({ question: 'q' });
    expect(output).toEqual({ answer: 'the answer text' });
    // The provider was asked to stream (a listener is attached), so the listener is owed the answer's text.
    expect(stub().chatRequests.every((request) => request.body.stream === true)).toBe(true);
    let answer = '';
    for (const { field, delta, restart } of deltas) {
      if (field !== 'answer') continue;
      answer = restart ? delta : answer + delta;
    }
    // The stub streams each answer in two pieces: more than one delta means the answer was streamed, not only told
    // whole at the end.
    expect(deltas.length).toBeGreaterThan(1);
    expect(answer).toBe(output.answer);
  });
});
