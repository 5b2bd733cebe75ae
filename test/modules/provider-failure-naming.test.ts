import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLanguageModel,
  ProviderError,
  ProviderUnavailableError,
  Runtime,
  type ModuleHandle,
} from '../../src/index.js';
import { errorFromJSON, errorToJSON } from '../../src/error-json.js';
import { httpError } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('naming');

/** An OpenAI SSE chunk of choice 0. */
const chunk = (delta: object, finish: string | null): string =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('a module execution the provider fails', () => {
  let qa: ModuleHandle;

  beforeEach(async () => {
    qa = await session().module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
    });
  });

  it('names the module a provider refused, in the message and the details, also once over the wire', async () => {
    stub().reply(httpError(403, 'Rate limit reached'));
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toBe(
      "provider 'openai' answered HTTP 403 to module 'qa' (model 'gpt-4o-mini'): Rate limit reached",
    );
    expect((error as ProviderError).details).toMatchObject({
      provider: 'openai',
      status: 403,
      providerMessage: 'Rate limit reached',
      moduleId: 'qa',
      model: 'gpt-4o-mini',
    });
    expect(stub().chatRequests).toHaveLength(1);
    // How a client on another node rebuilds it: the same message, the module still named.
    expect(errorFromJSON(errorToJSON(error)).message).toBe((error as Error).message);
  });

  // Found by an audit: a model variable set to a name the provider does not serve failed as a 404 naming no model.
  it('names the model a variable chose when the provider refuses it', async () => {
    await session().defineVariable('model', 'string', 'gpt-nope');
    const bound = await session().module('bound', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { model: 'model' },
      maxRetries: 0,
    });
    stub().reply(httpError(404, 'The model `gpt-nope` does not exist'));
    const error = await bound.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'provider_error', details: { status: 404, model: 'gpt-nope' } });
    expect((error as Error).message).toMatch(
      /^provider 'openai' answered HTTP 404 to module 'bound' \(model 'gpt-nope'\): /,
    );
  });

  // Found by a review: a rate limit failed the execution at once, with no retry and its Retry-After ignored.
  it('asks again after a rate limit, twice, waiting what Retry-After asks, and names the module if it stays', async () => {
    const limited = httpError(429, 'Rate limit reached', 'requests', { 'retry-after': '0' });
    stub().reply(limited, limited);
    expect((await qa.execute({ question: 'q' })).output).toBeDefined();
    expect(stub().chatRequests).toHaveLength(3);

    stub().requests.length = 0;
    stub().fallback = () => limited;
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ details: { status: 429, moduleId: 'qa' } });
    expect(stub().chatRequests).toHaveLength(3);
  });

  // Found by the provider audit: Azure OpenAI's `retry-after-ms` went unread, and a Retry-After over the longest wait
  // beside it failed the execution at once.
  it('waits what retry-after-ms asks before what Retry-After says, as OpenAI and Azure send both', async () => {
    const limited = httpError(429, 'Rate limit reached', 'requests', { 'retry-after-ms': '20', 'retry-after': '30' });
    stub().reply(limited);
    expect((await qa.execute({ question: 'q' })).output).toBeDefined();
    expect(stub().chatRequests).toHaveLength(2);
  });

  // Found by a review: with httpRetries, Ax's own retries of a 429 multiplied the rate-limit retries (9 requests).
  it.each([
    ['rateLimitRetries: 0', { rateLimitRetries: 0 }, 1],
    ['httpRetries: 2', { httpRetries: 2 }, 3],
  ])('sends a rate-limited request as often as rateLimitRetries says, with %s', async (_, settings, requests) => {
    const llm = createLanguageModel({ provider: 'openai', url: stub().url, key: 'k', model: 'm', ...settings });
    const runtime = await Runtime.start({ llm });
    try {
      const once = await (
        await runtime.session('s')
      ).module('m', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
      stub().fallback = () => httpError(429, 'Rate limit reached', 'requests', { 'retry-after': '0' });
      await expect(once.execute({ question: 'q' })).rejects.toMatchObject({ details: { status: 429 } });
      expect(stub().chatRequests).toHaveLength(requests);
    } finally {
      await runtime.stop();
    }
  });

  it.each([
    ['BestOfN', { type: 'BestOfN', n: 2 }],
    ['Refine', { type: 'Refine', rounds: 2 }],
  ])(
    "gives a %s module's provider failure as the provider said it, not 'no successful candidates'",
    async (_, spec) => {
      const module = await session().module(`many-${spec.type}`, {
        ...spec,
        signature: 'question:string -> answer:string',
        reward: () => 1,
        maxRetries: 0,
      });
      stub().fallback = () => httpError(500, 'The server had an error');
      const error = await module.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        code: 'provider_error',
        details: { status: 500, providerMessage: 'The server had an error', moduleId: `many-${spec.type}` },
      });
    },
  );

  // What gateways and proxies answer with HTTP 200: each is the provider's fault, to retry, not a bug of Tether's.
  it.each([
    ['no choices', { choices: [] }, 'Chat response results cannot be empty'],
    ['no choices field', { id: 'x' }, "Cannot read properties of undefined (reading 'map')"],
    [
      'a choice without its message',
      { choices: [{ index: 0 }] },
      "Cannot read properties of undefined (reading 'refusal')",
    ],
    [
      'an empty message',
      { choices: [{ index: 0, message: { role: 'assistant' } }] },
      'Chat response result at index 0 must have at least one of: content, thought, thoughtBlocks, images, audio, functionCalls, or finishReason',
    ],
    ['an error object', { error: { message: 'upstream overloaded', code: 503 } }, 'upstream overloaded'],
    ['an error string', { error: 'upstream overloaded' }, 'upstream overloaded'],
  ])(
    'tells a JSON body with %s as provider_unavailable (malformed_response), saying what was wrong',
    async (_, body, said) => {
      stub().reply({ kind: 'raw', body: JSON.stringify(body), contentType: 'application/json' });
      const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ reason: 'malformed_response', details: { provider: 'openai', moduleId: 'qa' } });
      expect((error as Error).message).toBe(
        `provider 'openai' answered with a body that is not a chat completion for module 'qa' (model 'gpt-4o-mini'): ${said}`,
      );
    },
  );

  it('tells a streamed chunk of another shape as provider_unavailable (malformed_response)', async () => {
    qa.on('module.delta', () => {});
    const chunk = JSON.stringify({ error: { message: 'upstream overloaded' } });
    stub().reply({ kind: 'raw', body: `data: ${chunk}\n\ndata: [DONE]\n\n`, contentType: 'text/event-stream' });
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(stub().chatRequests.at(-1)?.body.stream).toBe(true);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'malformed_response', details: { moduleId: 'qa' } });
  });

  // Found by a review: read as a stream with no events, each was an empty answer, so `model_answer_invalid` after
  // Ax's corrections had asked the provider again and again.
  it.each([
    ['a proxy page', '<html><body>502 Bad Gateway</body></html>', 'text/html', '<html><body>502 Bad Gateway'],
    ['an error object', JSON.stringify({ error: { message: 'overloaded' } }), 'application/json', 'overloaded'],
  ])(
    'tells %s answering a streamed request with HTTP 200 as provider_unavailable (malformed_response)',
    async (_, body, contentType, said) => {
      qa.on('module.delta', () => {});
      stub().reply({ kind: 'raw', body, contentType });
      const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(stub().chatRequests.at(-1)?.body.stream).toBe(true);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ reason: 'malformed_response', details: { moduleId: 'qa' } });
      expect((error as Error).message).toContain(
        `answered a streamed request with ${contentType}, not an event stream: ${said}`,
      );
    },
  );

  // Found by a review: Ax skipped such an event, printing its raw text to the node's output, and gave the rest of the
  // stream as the whole answer (here "fine" for "fine, but only on Tuesdays").
  it('tells a streamed event that is not JSON as provider_unavailable (malformed_response), printing nothing', async () => {
    qa.on('module.delta', () => {});
    const body =
      chunk({ role: 'assistant', content: 'Answer: fine' }, null) +
      'data: {"id":"x","choices":[{"index":0,"delta":{"content":", but only on Tues\n\n' +
      chunk({}, 'stop') +
      'data: [DONE]\n\n';
    stub().reply({ kind: 'raw', body, contentType: 'text/event-stream' });
    const printed: unknown[] = [];
    const spies = (['log', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void printed.push(args)),
    );
    try {
      const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ reason: 'malformed_response', details: { moduleId: 'qa' } });
      expect((error as Error).message).toContain('an event that is not JSON: {"id":"x","choices"');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(printed).toEqual([]);
  });

  it('reads a streamed answer labelled as another type than an event stream, as the stream it is', async () => {
    qa.on('module.delta', () => {});
    const body = chunk({ role: 'assistant', content: 'Answer: fine' }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n';
    stub().reply({ kind: 'raw', body, contentType: 'text/plain' });
    const result = await qa.execute({ question: 'q' });
    expect(stub().chatRequests.at(-1)?.body.stream).toBe(true);
    expect(result.output).toEqual({ answer: 'fine' });
  });

  it('tells a body that is not JSON (a proxy page) as provider_unavailable, not internal_error', async () => {
    stub().reply({ kind: 'raw', body: '<html><body>502 Bad Gateway</body></html>' });
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({
      code: 'provider_unavailable',
      reason: 'malformed_response',
      details: { provider: 'openai', reason: 'malformed_response', moduleId: 'qa' },
    });
    expect((error as Error).message).toMatch(
      /^provider 'openai' answered with a body that is not a chat completion for module 'qa' \(model 'gpt-4o-mini'\): .*JSON/,
    );
    const rebuilt = errorFromJSON(errorToJSON(error));
    expect(rebuilt).toBeInstanceOf(ProviderUnavailableError);
    expect(rebuilt).toMatchObject({ reason: 'malformed_response', message: (error as Error).message });
  });
});

describe('a module execution whose provider cannot be reached', () => {
  it('fails with provider_unavailable (unreachable) saying why, not internal_error', async () => {
    // A port that was just free: nothing listens there any more.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const runtime = await Runtime.start({
      llm: createLanguageModel({ provider: 'openai', url: `http://127.0.0.1:${port}/v1`, key: 'k', model: 'm' }),
    });
    try {
      const session = await runtime.session('unreachable');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ reason: 'unreachable', details: { provider: 'openai', moduleId: 'qa' } });
      expect((error as Error).message).toMatch(
        new RegExp(
          `^provider 'openai' could not be reached for module 'qa' \\(model 'm'\\): fetch failed: .*ECONNREFUSED`,
        ),
      );
    } finally {
      await runtime.stop();
    }
  });
});
