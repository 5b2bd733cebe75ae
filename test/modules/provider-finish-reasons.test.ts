/**
 * Found by a review: an OpenAI-protocol answer ending with a finish reason Ax does not know, as DeepSeek's
 * `insufficient_system_resource` (interrupted) and Mistral's `model_length` (cut at the model's context length),
 * whole or streamed, came out as a result: the text so far, truncated, taken as the whole answer. Requests go to a
 * local server only.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { guardFetch, openAIChatText } from '../support/provider-servers.js';

const scope = useProviderScope();

/** One Predict execution on `provider`, allowed `maxRetries`, whose answer of `text` ends with `finish`. */
async function outcome(
  provider: string,
  finish: string,
  stream: boolean,
  maxRetries: number,
  text: string,
): Promise<any> {
  const server = await scope.startServer();
  server.answer = openAIChatText(text, finish);
  const outside = guardFetch();
  const llm = createLanguageModel({ provider, url: `${server.origin}/v1`, key: 'k', model: 'local-model' });
  const runtime = await scope.startRuntime({ llm });
  const qa = await (
    await runtime.session('finish')
  ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries });
  if (stream) qa.on('module.delta', () => {});
  const result = await qa.execute({ question: 'What is the capital of France?' }).then(
    (done) => ({ output: done.output }),
    (error: { code?: string; message?: string; details?: Record<string, unknown> }) => ({
      code: error.code,
      message: error.message,
      details: error.details,
    }),
  );
  expect(outside).toEqual([]);
  return result;
}

const CUT = 'Answer: The capital of France is';

describe.each([false, true])('streamed: %s', (stream) => {
  it("DeepSeek's insufficient_system_resource is provider_unavailable (interrupted), not the cut text", async () => {
    const result = await outcome('deepseek', 'insufficient_system_resource', stream, 0, CUT);
    expect(result).toMatchObject({
      code: 'provider_unavailable',
      details: { provider: 'deepseek', reason: 'interrupted' },
    });
    expect(result.message).toContain("finish reason 'insufficient_system_resource'");
  });

  it("Mistral's model_length is model_answer_invalid (max_tokens), the prompt sent once", async () => {
    const result = await outcome('mistral', 'model_length', stream, 2, CUT);
    expect(result).toMatchObject({
      code: 'model_answer_invalid',
      details: { provider: 'mistral', reason: 'max_tokens' },
    });
    expect(result.details.problem).toContain("the model's context length");
    expect(scope.server.requests).toHaveLength(1);
  });

  it('a finish reason no one knows is model_answer_invalid naming it, never a result', async () => {
    const result = await outcome('openai-compatible', 'paused_for_review', stream, 2, CUT);
    expect(result).toMatchObject({ code: 'model_answer_invalid', details: { reason: 'invalid' } });
    expect(result.details.problem).toContain("finish reason 'paused_for_review'");
    expect(scope.server.requests).toHaveLength(1);
  });

  it.each([
    ['openai-compatible', 'stop'],
    ['openai-compatible', 'function_call'],
    ['together', 'eos'],
    ['huggingface', 'eos_token'],
    ['huggingface', 'stop_sequence'],
    // Found by a review: whole answers from gateways passing on Bedrock's `end_turn` or Gemini's `STOP` were refused.
    ['openai-compatible', 'end_turn'],
    ['openai-compatible', 'tool_use'],
    ['openai-compatible', 'STOP'],
  ])('%s ending with %s, a whole answer, is the result', async (provider, finish) => {
    expect(await outcome(provider, finish, stream, 0, 'Answer: Paris')).toEqual({ output: { answer: 'Paris' } });
  });

  it.each(['MAX_TOKENS', 'max_tokens', 'LENGTH'])(
    "a gateway's %s is model_answer_invalid (max_tokens), the prompt sent once",
    async (finish) => {
      const result = await outcome('openai-compatible', finish, stream, 2, CUT);
      expect(result).toMatchObject({ code: 'model_answer_invalid', details: { reason: 'max_tokens' } });
      expect(result.details.problem).toBe(
        `the answer reached its max tokens (maxTokens) before it was complete (finish reason '${finish}')`,
      );
      expect(scope.server.requests).toHaveLength(1);
    },
  );

  it.each(['SAFETY', 'guardrail_intervened', 'CONTENT_FILTER'])(
    "a gateway's %s is model_answer_invalid (content_filter), never a result",
    async (finish) => {
      const result = await outcome('openai-compatible', finish, stream, 2, CUT);
      expect(result).toMatchObject({ code: 'model_answer_invalid', details: { reason: 'content_filter' } });
      expect(scope.server.requests).toHaveLength(1);
    },
  );
});
