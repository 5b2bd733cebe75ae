/**
 * What each finish reason the module comment of src/modules/finish-reasons.ts lists stands for, read in a whole
 * answer's JSON. The end-to-end cases (provider-finish-reasons.test.ts) run a few of each kind on a local server;
 * this holds every one of them (found by mutation: `end`, `abort`, `recitation`, `spii` and the quote's cut could
 * each go with every test passing).
 */
import { describe, expect, it } from 'vitest';
import { ContentFilteredError } from '../../src/modules/content-filter.js';
import { AnswerInterruptedError, AnswerNotWholeError, unfinishedChoiceOf } from '../../src/modules/finish-reasons.js';

const ending = (finish: string) => ({ choices: [{ index: 0, finish_reason: finish }] });

describe('finish-reasons', () => {
  it.each(['stop', 'end_turn', 'end', 'tool_calls', 'tool_use', 'function_call', 'eos', 'eos_token', 'stop_sequence'])(
    'takes %s, in any case, as a whole answer',
    (finish) => {
      expect(unfinishedChoiceOf(ending(finish))).toBeUndefined();
      expect(unfinishedChoiceOf(ending(finish.toUpperCase()))).toBeUndefined();
    },
  );

  it.each([
    'content_filtered',
    'guardrail_intervened',
    'SAFETY',
    'RECITATION',
    'PROHIBITED_CONTENT',
    'BLOCKLIST',
    'SPII',
    'CONTENT_FILTER',
  ])('takes %s as an answer a content filter stopped', (finish) => {
    expect(unfinishedChoiceOf(ending(finish))).toBeInstanceOf(ContentFilteredError);
  });

  it.each(['insufficient_system_resource', 'error', 'abort'])('takes %s as an interrupted answer', (finish) => {
    expect(unfinishedChoiceOf(ending(finish))).toBeInstanceOf(AnswerInterruptedError);
  });

  it('quotes a finish reason no one knows up to 64 characters, cutting a longer one', () => {
    const at = (finish: string) => (unfinishedChoiceOf(ending(finish)) as AnswerNotWholeError).finishReason;
    expect(at('x'.repeat(64))).toBe('x'.repeat(64));
    expect(at('x'.repeat(65))).toBe(`${'x'.repeat(63)}…`);
  });
});
