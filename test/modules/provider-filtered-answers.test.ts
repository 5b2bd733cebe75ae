/**
 * Found by a review: what Gemini and Anthropic answer when their filters stop an answer or block a prompt, and what
 * a gateway answers with HTTP 200 on their protocols.
 * - Gemini's `finishReason: "SAFETY"` (and Anthropic's `stop_reason: "refusal"`) reached Ax as a refusal to correct:
 *   the same prompt went out `maxRetries` times more, then failed as `invalid` ("a clearer signature may do").
 * - Gemini's refusal of the prompt itself (`promptFeedback.blockReason`, no candidates), and a gateway's error object,
 *   failed on a TypeError, reported as `internal_error`, the provider's words lost.
 * Each is now what the README says: `content_filter` at the first answer, or `malformed_response` quoting the
 * gateway. Requests go to a local server through the configured url; nothing reaches the internet.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { type Answer, guardFetch, sendJson, sendSse } from '../support/provider-servers.js';

const scope = useProviderScope();

/** One Predict execution (2 corrections allowed) on `provider`, answered by `answer`, streamed when `stream`. */
async function outcomeOf(provider: 'google-gemini' | 'anthropic', answer: Answer, stream: boolean): Promise<any> {
  const server = await scope.startServer();
  server.answer = answer;
  const outside = guardFetch();
  const url = `${server.origin}/${provider === 'anthropic' ? 'v1' : 'v1beta'}`;
  const runtime = await scope.startRuntime({
    llm: createLanguageModel({ provider, url, key: 'local-key', model: 'local-model', rateLimitRetries: 0 }),
  });
  const session = await runtime.session('filtered');
  const qa = await session.module('qa', {
    type: 'Predict',
    signature: 'question:string -> answer:string',
    maxRetries: 2,
  });
  if (stream) qa.on('module.delta', () => {});
  const outcome = await qa.execute({ question: 'Something a filter stops' }).then(
    (result) => ({ output: result.output }),
    (error: { code?: string; details?: Record<string, unknown> }) => ({ code: error.code, details: error.details }),
  );
  expect(outside).toEqual([]);
  return outcome;
}

const contentFilter = { code: 'model_answer_invalid', details: { reason: 'content_filter' } };
const promptBlocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7 } };

describe.each([false, true])('streamed: %s', (stream) => {
  const send = (res: Parameters<Answer>[1], ...events: object[]) =>
    stream
      ? sendSse(
          res,
          events.map((event) => [undefined, event] as const),
        )
      : sendJson(res, 200, events.at(-1));

  it("Gemini's safety filter stopping the answer is content_filter, the prompt sent once", async () => {
    const outcome = await outcomeOf(
      'google-gemini',
      (_request, res) =>
        send(
          res,
          { candidates: [{ content: { role: 'model', parts: [{ text: 'Answer: ' }] }, index: 0 }] },
          { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'SAFETY', index: 0 }] },
        ),
      stream,
    );
    expect(outcome).toMatchObject(contentFilter);
    expect(scope.server.requests).toHaveLength(1);
    expect(scope.server.requests[0]!.path).toContain(stream ? ':streamGenerateContent' : ':generateContent');
  });

  it("Gemini's refusal of the prompt itself is content_filter, not internal_error", async () => {
    const outcome = await outcomeOf('google-gemini', (_request, res) => send(res, promptBlocked), stream);
    expect(outcome).toMatchObject(contentFilter);
    expect(scope.server.requests).toHaveLength(1);
  });

  it("a gateway's error object with HTTP 200 on Gemini's protocol is malformed_response, quoting it", async () => {
    const outcome = await outcomeOf(
      'google-gemini',
      (_request, res) => send(res, { error: { message: 'upstream overloaded' } }),
      stream,
    );
    expect(outcome).toMatchObject({
      code: 'provider_unavailable',
      details: { provider: 'google-gemini', reason: 'malformed_response' },
    });
    expect(outcome.details.providerMessage).toContain('upstream overloaded');
  });
});

describe('answers of another shape', () => {
  it('a Gemini answer with neither candidates nor an error is malformed_response, not internal_error', async () => {
    const outcome = await outcomeOf(
      'google-gemini',
      (_request, res) => sendJson(res, 200, { usageMetadata: {} }),
      false,
    );
    expect(outcome).toMatchObject({ code: 'provider_unavailable', details: { reason: 'malformed_response' } });
  });
});

describe("Anthropic's refusal (stop_reason: refusal, its safety classifiers)", () => {
  it('is content_filter at the first answer', async () => {
    const outcome = await outcomeOf(
      'anthropic',
      (request, res) =>
        sendJson(res, 200, {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: request.body.model,
          content: [],
          stop_reason: 'refusal',
          usage: { input_tokens: 5, output_tokens: 0 },
        }),
      false,
    );
    expect(outcome).toMatchObject(contentFilter);
    expect(scope.server.requests).toHaveLength(1);
  });
});
