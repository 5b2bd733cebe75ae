import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ProviderError, ProviderUnavailableError, Runtime, createLanguageModel } from '../../src/index.js';
import { AnswerTimeoutError, fetchWithAnswerDeadline } from '../../src/modules/answer-deadline.js';
import { waitFor } from '../support/wait-for.js';

/** A provider on a port of its own that answers each request with `answer`; `closed` counts connections let go. */
async function provider(answer: (res: ServerResponse, req: IncomingMessage) => void) {
  const seen = { requests: 0, closed: 0 };
  const server = createServer((req, res) => {
    seen.requests += 1;
    res.on('close', () => void (seen.closed += 1));
    req.resume();
    req.on('end', () => answer(res, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

/** A Predict module on a model at `url` whose requests may take `timeoutMs`. */
async function moduleOn(url: string, timeoutMs: number) {
  const runtime = await Runtime.start({
    llm: createLanguageModel({ provider: 'openai', url, key: 'k', model: 'gpt-4o-mini', timeoutMs }),
  });
  onTestFinished(() => runtime.stop());
  const session = await runtime.session('deadline');
  return session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
}

/** One chunk of an OpenAI stream; the last one of an answer has its finish reason. */
const chunk = (content: string, finish: string | null = null): string =>
  `data: ${JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: finish }],
  })}\n\n`;

describe("a provider's answer that stalls after its headers", () => {
  it('ends a streamed answer at the request timeout as provider_unavailable (timeout), letting the connection go', async () => {
    const { url, seen } = await provider((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Answer: Par'));
    });
    const qa = await moduleOn(url, 300);
    qa.on('module.delta', () => {});
    // The module's own execution timeout (120 s) is far off: only the provider's can end it this soon.
    const error = await qa.execute({ question: 'capital of France?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout', details: { moduleId: 'qa' } });
    await waitFor(() => seen.closed === seen.requests, { message: 'the provider saw its connection let go' });
  });

  it('ends a whole answer whose body stalls alike', async () => {
    const { url } = await provider((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    });
    const qa = await moduleOn(url, 300);
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout' });
  });

  it('leaves an answer that ends in time as it was', async () => {
    const { url } = await provider((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Answer: Paris'));
      setTimeout(() => res.end(`${chunk('', 'stop')}data: [DONE]\n\n`), 50);
    });
    const qa = await moduleOn(url, 2000);
    qa.on('module.delta', () => {});
    expect(await qa.execute({ question: 'q' })).toMatchObject({ output: { answer: 'Paris' } });
  });
});

// Found by mutation: Ax's own timeout and the rate-limit retries could each go by the default 300 s with every test
// passing.
describe("the model's timeoutMs, before any answer", () => {
  it('ends a request whose answer never starts (no headers) as provider_unavailable (timeout)', async () => {
    const { url } = await provider(() => {});
    const qa = await moduleOn(url, 300);
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout' });
  });

  it('answers a 429 whose Retry-After would end past half of it at once, sending nothing more', async () => {
    const { url, seen } = await provider((res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests' } }));
    });
    // 2 s is within the longest wait (20 s) but past half of 3 s.
    const qa = await moduleOn(url, 3000);
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429 });
    expect(seen.requests).toBe(1);
  });
});

describe("the answer's deadline", () => {
  // Found by mutation: a deadline counted from the first read of the body, not from the request, passed every test.
  it("counts the answer's deadline from the request's sending, the wait for its headers included", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    onTestFinished(() => void vi.useRealTimers());
    let answer!: (response: Response) => void;
    const stalled = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new Uint8Array([123])),
    });
    const fetch = (() => new Promise<Response>((resolve) => (answer = resolve))) as typeof globalThis.fetch;
    const sent = fetchWithAnswerDeadline(500, fetch)('http://provider/v1', {});
    await vi.advanceTimersByTimeAsync(400);
    answer(new Response(stalled));
    const reader = (await sent).body!.getReader();
    expect((await reader.read()).value).toEqual(new Uint8Array([123]));
    const next = reader.read().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await next).toBeInstanceOf(AnswerTimeoutError);
  });
});

describe('a streamed answer cut off on its way', () => {
  it('fails as provider_unavailable (unreachable) rather than giving the text so far as the answer', async () => {
    // A clean end of the stream, with no finish reason and no [DONE]: as a proxy closing it would leave it.
    const { url } = await provider((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Answer: Par'));
      setTimeout(() => res.end(), 20);
    });
    const qa = await moduleOn(url, 5000);
    qa.on('module.delta', () => {});
    const error = await qa.execute({ question: 'capital of France?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'unreachable', details: { moduleId: 'qa' } });
    expect((error as Error).message).toContain('no finish reason');
  });

  /** A Predict module on provider `name`, whose stream ends with `finish` and then `[DONE]`. */
  async function streamEndingWith(name: string, finish: string) {
    const { url } = await provider((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('Answer: Paris'));
      res.end(`${chunk('', finish)}data: [DONE]\n\n`);
    });
    const runtime = await Runtime.start({ llm: createLanguageModel({ provider: name, url, key: 'k', model: 'm' }) });
    onTestFinished(() => runtime.stop());
    const qa = await (
      await runtime.session('complete')
    ).module('qa', { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 });
    qa.on('module.delta', () => {});
    return qa;
  }

  it.each([
    ['together', 'eos'],
    ['openai-compatible', 'function_call'],
  ])("takes a %s stream ending with a finish reason Ax does not know ('%s') as complete", async (name, finish) => {
    const qa = await streamEndingWith(name, finish);
    expect(await qa.execute({ question: 'q' })).toMatchObject({ output: { answer: 'Paris' } });
  });

  // Not cut off on its way, as it has a finish reason; but the provider says the answer is not whole (it stopped at
  // the model's context length), so the text so far is no result (see provider-finish-reasons.test.ts).
  it("takes a mistral stream ending with 'model_length' for what it says: max_tokens, not cut off", async () => {
    const qa = await streamEndingWith('mistral', 'model_length');
    const error = await qa.execute({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model_answer_invalid', reason: 'max_tokens' });
  });
});
