/**
 * `date` and `datetime` output fields of an answer given as structured output (JSON), as the offline `tether-echo`
 * and any provider that requires structured output answer: Ax leaves them as the text, where it parses a text answer's
 * into `Date`s, so code written against the offline model got a string that a real provider's `Date` replaced.
 */
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { Predict, createEchoModel } from '../../src/modules/index.js';

const SIGNATURE = 'question:string -> when:date, at:datetime, note?:string';

describe('structured date outputs', () => {
  it('are Dates, as a text answer gives them', async () => {
    const { output } = await new Predict(SIGNATURE, { llm: createEchoModel() }).forward({ question: 'q' });
    expect(output.when).toEqual(new Date('1970-01-01T00:00:00.000Z'));
    expect(output.at).toEqual(new Date('1970-01-01T00:00:00.000Z'));
    expect(typeof output.note).toBe('string');
  });

  it('reach a module process caller as frozen Dates', async () => {
    const runtime = await Runtime.start();
    try {
      const session = await runtime.session('dates');
      const qa = await session.module('qa', { type: 'Predict', signature: SIGNATURE });
      const { output } = await qa.execute({ question: 'q' });
      const when = output.when as Date;
      expect(when).toBeInstanceOf(Date);
      expect(() => when.setUTCFullYear(1999)).toThrow(TypeError);
      expect(when.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    } finally {
      await runtime.stop();
    }
  });
});
