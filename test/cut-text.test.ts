/**
 * Text cut short for a message or an echo is cut between characters, never between the two halves of an emoji (a
 * surrogate pair): half of one reaches a terminal as U+FFFD, an escape `\ud83d` in JSON, and a strict UTF-8 reader
 * (Go, Rust, Python's `json` to `str.encode`) refuses it.
 */
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError, createEchoModel } from '../src/index.js';
import { cutText } from '../src/printable.js';
import { assertSessionId, assertVariableName } from '../src/variables/index.js';
import { validationErrorOf } from './support/validation-error.js';

const LONE_SURROGATE = /\p{Cs}|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/iu;

describe('cutText', () => {
  it('cuts at most max code units, one fewer rather than inside a surrogate pair', () => {
    expect(cutText('a😀b', 2)).toBe('a');
    expect(cutText('a😀b', 3)).toBe('a😀');
    expect(cutText('abc', 5)).toBe('abc');
    expect(cutText('名前です', 2)).toBe('名前');
  });

  it('shows a long emoji name in a refusal without half of an emoji, in its message or its details', () => {
    const name = `x${'😀'.repeat(100)}`;
    const error = validationErrorOf(() => assertVariableName(name));
    expect(error.message).toMatch(/^invalid variable name 'x😀+…'/u);
    expect(error.message).not.toMatch(LONE_SURROGATE);
    expect(JSON.stringify(error.details)).not.toMatch(LONE_SURROGATE);
    const session = validationErrorOf(() => assertSessionId(`${'🇯🇵'.repeat(100)}x`));
    expect(JSON.stringify(session.details)).not.toMatch(LONE_SURROGATE);
    expect(session.message).not.toMatch(LONE_SURROGATE);
  });

  it('lets the echo model cut a long question between characters', async () => {
    const runtime = await Runtime.start({ llm: createEchoModel() });
    try {
      const session = await runtime.session('echo-emoji');
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      // "Question: a" is 11 code units, so the 400th is the first half of an emoji.
      const { output } = await qa.execute({ question: `a${'😀'.repeat(300)}` });
      const answer = (output as { answer: string }).answer;
      expect(answer).toMatch(/^\[tether-echo\] Question: a😀+ \| model=default$/u);
      expect(answer).not.toMatch(LONE_SURROGATE);
    } finally {
      await runtime.stop();
    }
  });

  it('shows an input of the wrong type in its refusal without half of an emoji', async () => {
    const runtime = await Runtime.start({ llm: createEchoModel() });
    try {
      const session = await runtime.session('input-emoji');
      const count = await session.module('count', { type: 'Predict', signature: 'count:number -> answer:string' });
      // As JSON, '"a' and then emoji: its 37th code unit, where the message cuts it, is the first half of one.
      const refusal = await count.execute({ count: `a${'😀'.repeat(50)}` }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ValidationError);
      expect((refusal as Error).message).toContain('a string ("a😀');
      expect((refusal as Error).message).not.toMatch(LONE_SURROGATE);
    } finally {
      await runtime.stop();
    }
  });
});
