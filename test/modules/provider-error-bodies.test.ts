/**
 * What providers' documented error answers become. Requests go to a local server only.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel } from '../../src/index.js';
import { useProviderScope } from '../support/provider-scope.js';
import { guardFetch, sendJson } from '../support/provider-servers.js';

const scope = useProviderScope();

/**
 * One Predict execution (2 corrections allowed) on `provider`, reached at `path` of the local server, which answers
 * `status` and `body`.
 */
async function outcome(provider: string, path: string, status: number, body: unknown): Promise<any> {
  const server = await scope.startServer();
  server.answer = (_request, res) => sendJson(res, status, body);
  const outside = guardFetch();
  const llm = createLanguageModel({ provider, url: `${server.origin}${path}`, key: 'k', model: 'm' });
  const runtime = await scope.startRuntime({ llm });
  const qa = await (
    await runtime.session('errors')
  ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 2 });
  const result = await qa.execute({ question: 'q' }).then(
    (done) => ({ output: done.output }),
    (error: { code?: string; details?: Record<string, unknown> }) => ({ code: error.code, details: error.details }),
  );
  expect(outside).toEqual([]);
  return result;
}

describe('validation errors of FastAPI servers, whose message is no string', () => {
  // Found by a review: Mistral's 422 said only "Unprocessable Entity", its reason lost.
  it("Mistral's 422 (message.detail) is provider_error quoting each error with where it is", async () => {
    const result = await outcome('mistral', '/v1', 422, {
      object: 'error',
      message: {
        detail: [
          {
            type: 'extra_forbidden',
            loc: ['body', 'stream_options'],
            msg: 'Extra inputs are not permitted',
            input: { include_usage: true },
          },
        ],
      },
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    expect(result).toMatchObject({
      code: 'provider_error',
      details: { status: 422, providerMessage: 'body.stream_options: Extra inputs are not permitted' },
    });
  });

  it('a bare detail list, as vLLM and other FastAPI servers answer, is quoted alike', async () => {
    const result = await outcome('openai-compatible', '/v1', 400, {
      detail: [
        { loc: ['body', 'messages', 0], msg: 'Field required' },
        { loc: ['body', 'n'], msg: 'Input should be less than 9' },
      ],
    });
    expect(result.details.providerMessage).toBe('body.messages.0: Field required; body.n: Input should be less than 9');
  });

  it('a message object of another shape is quoted as its JSON, at most 500 characters', async () => {
    const result = await outcome('openai-compatible', '/v1', 400, { message: { reason: 'x'.repeat(600) } });
    expect(result.details.providerMessage).toMatch(/^\{"reason":"xxx/);
    expect(result.details.providerMessage).toHaveLength(500);
  });
});

// Found by mutation: the status text, the trim, the order of the fields and the 500-character edge could each change
// with every test passing.
describe('what an error body says', () => {
  it('is the status text when the body says nothing', async () => {
    const result = await outcome('openai-compatible', '/v1', 400, {});
    expect(result).toMatchObject({ code: 'provider_error', details: { status: 400, providerMessage: 'Bad Request' } });
  });

  it('is a text body without the white space around it', async () => {
    const result = await outcome('openai-compatible', '/v1', 400, '  upstream refused the request\n');
    expect(result.details.providerMessage).toBe('upstream refused the request');
  });

  it("is OpenAI's error.message before a message beside it", async () => {
    const result = await outcome('openai-compatible', '/v1', 400, { message: 'outer', error: { message: 'inner' } });
    expect(result.details.providerMessage).toBe('inner');
  });

  it('is whole up to 500 characters, and cut to 499 and an ellipsis past them', async () => {
    const whole = await outcome('openai-compatible', '/v1', 400, { error: { message: 'x'.repeat(500) } });
    expect(whole.details.providerMessage).toBe('x'.repeat(500));
    const cut = await outcome('openai-compatible', '/v1', 400, { error: { message: 'x'.repeat(501) } });
    expect(cut.details.providerMessage).toBe(`${'x'.repeat(499)}…`);
  });
});

describe("Azure OpenAI's content filter", () => {
  // Found by a review: Azure's refusal of a prompt its filter blocks (HTTP 400) was a plain provider_error.
  it('refusing the prompt (HTTP 400, code content_filter) is content_filter, the prompt sent once', async () => {
    const result = await outcome('azure-openai', '/openai/deployments/dep?api-version=2024-10-21', 400, {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. " +
          'Please modify your prompt and retry.',
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { hate: { filtered: true, severity: 'high' } },
        },
      },
    });
    expect(result).toMatchObject({
      code: 'model_answer_invalid',
      details: { provider: 'azure-openai', reason: 'content_filter' },
    });
    expect(result.details.problem).toContain('ResponsibleAIPolicyViolation');
    expect(scope.server.requests).toHaveLength(1);
  });

  it('another 400 of Azure stays provider_error', async () => {
    const result = await outcome('azure-openai', '/openai/v1', 400, {
      error: { message: "Unsupported parameter: 'max_tokens'", code: 'unsupported_parameter' },
    });
    expect(result).toMatchObject({ code: 'provider_error', details: { status: 400 } });
  });
});
