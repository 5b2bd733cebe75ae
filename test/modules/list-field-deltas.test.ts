/**
 * Deltas go to text fields only: a list of strings streams as the model writes it (JSON, a markdown list), which no
 * deltas of the list in `output` could add up to, so it gets none, as a number field gets none.
 */
import { describe, expect, it } from 'vitest';
import { useStubbedSession } from '../support/stubbed-session.js';
import { text } from '../support/openai-stub.js';

const { stub, session } = useStubbedSession('list-deltas');

describe('deltas of a list output field', () => {
  it.each([
    ['a JSON list', 'Answer: hi\nTags: ["alpha","beta"]'],
    ['a markdown list', 'Answer: hi\nTags:\n- alpha\n- beta'],
  ])('are none for %s, while the text field beside it adds up to its value', async (_, reply) => {
    stub().fallback = () => text(reply);
    const module = await session().module('m', {
      type: 'Predict',
      signature: 'question:string -> answer:string, tags:string[]',
      maxRetries: 0,
    });
    const deltas: Record<string, string> = {};
    module.on('module.delta', (event) => {
      deltas[event.field] = (event.restart ? '' : (deltas[event.field] ?? '')) + event.delta;
    });
    const result = await module.execute({ question: 'q' });
    expect(result.output).toEqual({ answer: 'hi', tags: ['alpha', 'beta'] });
    expect(deltas).toEqual({ answer: 'hi' });
  });
});
