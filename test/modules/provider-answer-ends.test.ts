/**
 * Answers the provider did not finish are never results: a stream cut off on its way, whatever its text says, and an
 * answer the provider's content filter stopped, whole or streamed. Each test runs a module of an embedded runtime
 * against the local OpenAI chat-completions stub, with raw bodies where the stub's scripted replies cannot say it.
 */
import { describe, expect, it } from 'vitest';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('answer-ends');

const SPEC = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/** An OpenAI SSE chunk of choice 0. */
function chunk(delta: Record<string, unknown>, finish: string | null): string {
  const body = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
  return `data: ${JSON.stringify({ ...body, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** A stream whose content pieces come, then nothing more: no finish reason, no `[DONE]` (a proxy closed it). */
function cutStream(...pieces: string[]): string {
  return pieces.map((content, i) => chunk(i === 0 ? { role: 'assistant', content } : { content }, null)).join('');
}

/** A complete stream of `content`, finished with `finish`. */
function finishedStream(content: string, finish: string): string {
  return chunk({ role: 'assistant', content }, null) + chunk({}, finish) + 'data: [DONE]\n\n';
}

/** A whole (unstreamed) chat completion of `content`, finished with `finish`. */
function wholeAnswer(content: string | null, finish: string): string {
  return JSON.stringify({
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

describe('a streamed answer cut off on its way', () => {
  // Found by a review: the completion markers were looked for in the raw bytes, the model's text included.
  it('fails as provider_unavailable even when the text the model wrote names a completion marker', async () => {
    const qa = await session().module('qa', SPEC);
    qa.on('module.delta', () => {}); // streamed, as every execution on a NATS node is
    // A model explaining streaming APIs; the stream is closed mid-sentence, with no finish reason and no [DONE].
    stub().reply({
      kind: 'raw',
      contentType: 'text/event-stream',
      body: cutStream('Answer: Anthropic ends its stream with message_stop, while OpenAI', ' sends'),
    });
    const outcome = await qa.execute({ question: 'How do streams end?' }).then(
      (result) => ({ output: result.output }),
      (error: { code?: string; details?: Record<string, unknown> }) => ({ code: error.code, details: error.details }),
    );
    expect(outcome).toMatchObject({ code: 'provider_unavailable', details: { reason: 'unreachable' } });
  });

  it('alike when the text holds an SSE end marker as written', async () => {
    const qa = await session().module('qa', SPEC);
    qa.on('module.delta', () => {});
    stub().reply({
      kind: 'raw',
      contentType: 'text/event-stream',
      body: cutStream('Answer: an OpenAI stream ends with the line data: [DONE] after the', ' last'),
    });
    const code = await qa.execute({ question: 'How do streams end?' }).then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    expect(code).toBe('provider_unavailable');
  });
});

describe("an answer the provider's content filter stopped", () => {
  // OpenAI's `finish_reason: "content_filter"`: found by a review, the whole answer's fragment was the result, and the
  // streamed one failed as internal_error ("Streaming response failed"), saying nothing of a filter.
  it('is not a successful result when the answer came whole', async () => {
    const qa = await session().module('qa', SPEC);
    stub().reply({
      kind: 'raw',
      contentType: 'application/json',
      body: wholeAnswer('Answer: The first step is to', 'content_filter'),
    });
    const outcome = await qa.execute({ question: 'q' }).then(
      (result) => ({ code: 'resolved', output: result.output }),
      (error: { code?: string; details?: unknown }) => ({ code: error.code, details: error.details }),
    );
    expect(outcome).toMatchObject({
      code: 'model_answer_invalid',
      details: { reason: 'content_filter', moduleId: 'qa' },
    });
  });

  it('is the same typed failure when it came streamed, not internal_error', async () => {
    const qa = await session().module('qa', SPEC);
    qa.on('module.delta', () => {});
    stub().reply({
      kind: 'raw',
      contentType: 'text/event-stream',
      body: finishedStream('Answer: The first step is to', 'content_filter'),
    });
    const error = (await qa.execute({ question: 'q' }).catch((e: unknown) => e)) as {
      code?: string;
      message?: string;
    };
    expect(error).toMatchObject({
      code: 'model_answer_invalid',
      details: { reason: 'content_filter', moduleId: 'qa' },
    });
    expect(error.message).toMatch(/content filter stopped the answer/);
  });
});
