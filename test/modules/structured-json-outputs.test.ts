/**
 * `json` output fields of an answer given as structured output (JSON) because the provider requires it, as the
 * offline `tether-echo` does: Ax leaves them as their JSON text there, where it parses a text answer's (and those of a
 * signature with an `object` field), so code written against the offline model got `'{"echo":…}'` where a real
 * provider gave an object (found by the prototype-pollution audit).
 */
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { Predict, createEchoModel } from '../../src/modules/index.js';
import { text, useOpenAIStub } from '../support/openai-stub.js';

const { stub, llm } = useOpenAIStub();

describe('structured json outputs', () => {
  it('are the value their JSON gives, as a text answer gives it', async () => {
    const { output } = await new Predict('question:string -> settings:json, note:string', {
      llm: createEchoModel(),
    }).forward({ question: 'q' });
    expect(output.settings).toEqual({ echo: expect.stringContaining('[tether-echo]') });
    expect(typeof output.note).toBe('string');
  });

  it('reach a module process caller as that value', async () => {
    const runtime = await Runtime.start();
    try {
      const qa = await (
        await runtime.session('json')
      ).module('qa', {
        type: 'Predict',
        signature: 'question:string -> settings:json',
      });
      const { output } = await qa.execute({ question: 'q' });
      expect(output.settings).toEqual({ echo: expect.stringContaining('Question: q') });
    } finally {
      await runtime.stop();
    }
  });

  it('leave a text answer whose JSON is a string as that string, though it reads as JSON', async () => {
    stub().fallback = () => text('Settings: "{\\"a\\": 1}"');
    const { output } = await new Predict('question:string -> settings:json', { llm: llm(), maxRetries: 0 }).forward({
      question: 'q',
    });
    expect(output.settings).toBe('{"a": 1}');
  });
});
