/**
 * The fetch wrapper that tells a streamed request's answer that is no event stream (src/modules/non-stream-answer.ts),
 * against responses a test builds and feeds: what it passes on, how much it reads first, and what it refuses.
 */
import { describe, expect, it } from 'vitest';
import { AnswerCutOffError, fetchCheckingAnswerStreams } from '../../src/modules/answer-stream-check.js';
import { NotAStreamError, fetchRefusingNonStreamAnswers } from '../../src/modules/non-stream-answer.js';

const encoder = new TextEncoder();
const STREAMED = { method: 'POST', body: JSON.stringify({ model: 'm', stream: true, messages: [] }) };

/** A body the test writes to as it likes, and a fetch answering it with `contentType`. */
function fedResponse(contentType: string) {
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (controller) => void (feed = controller) });
  const response = new Response(body, { status: 200, headers: { 'content-type': contentType } });
  const fetch = (async () => response) as unknown as typeof globalThis.fetch;
  return { response, fetch, write: (text: string) => feed.enqueue(encoder.encode(text)), end: () => feed.close() };
}

describe('a streamed request answered with HTTP 200', () => {
  it.each(['text/plain', 'text/event-stream'])(
    'passes an event stream labelled %s on as it comes, after reading only its start',
    async (label) => {
      const fed = fedResponse(label);
      fed.write('data: {"first":1}\n\n');
      // Resolves with the rest of the body not written yet: the start was enough to tell.
      const response = await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', STREAMED);
      const reader = response.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: {"first":1}\n\n');
      fed.write('data: [DONE]\n\n');
      fed.end();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: [DONE]\n\n');
      expect((await reader.read()).done).toBe(true);
      expect(response.status).toBe(200);
    },
  );

  // Found by a review: passed on with its own label, it skipped the check of streams cut off on their way.
  it('relabels the event stream it passes on, so that one cut off on its way is told as such', async () => {
    const fed = fedResponse('text/plain');
    fed.write('data: {"choices":[{"delta":{"content":"Answer: par"}}]}\n\n');
    fed.end();
    const fetch = fetchCheckingAnswerStreams(fetchRefusingNonStreamAnswers(fed.fetch));
    const response = await fetch('https://provider/v1/chat', STREAMED);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    await expect(response.text()).rejects.toBeInstanceOf(AnswerCutOffError);
  });

  it.each([
    [
      'a proxy page',
      'text/html',
      '<html><body>502 Bad Gateway</body></html>',
      '<html><body>502 Bad Gateway</body></html>',
    ],
    ['an error object', 'application/json', JSON.stringify({ error: { message: 'overloaded' } }), 'overloaded'],
    // Found by a review: under this label it was read as an event stream with no event, and told as one cut off.
    [
      'an error object labelled as an event stream',
      'text/event-stream',
      JSON.stringify({ error: { message: 'overloaded' } }),
      'overloaded',
    ],
    ['nothing', '', '', ''],
  ])('refuses %s as no event stream, quoting what it said', async (_, contentType, body, said) => {
    const fed = fedResponse(contentType);
    fed.write(body);
    fed.end();
    const error = await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', STREAMED).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotAStreamError);
    expect(error).toBeInstanceOf(SyntaxError);
    expect((error as Error).message).toBe(
      `the provider answered a streamed request with ${contentType || 'no content type'}, not an event stream: ${said}`,
    );
  });

  // Found by a review: Gemini asks for its stream in the URL, and its proxy page was still the model's fault.
  it("tells Gemini's streamed request by its URL (alt=sse), whose body says nothing of streams", async () => {
    const fed = fedResponse('text/html');
    fed.write('<html>proxy</html>');
    fed.end();
    const url = 'https://provider/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse';
    await expect(
      fetchRefusingNonStreamAnswers(fed.fetch)(url, { method: 'POST', body: '{"contents":[]}' }),
    ).rejects.toBeInstanceOf(NotAStreamError);
  });

  it('passes on untouched the answer of a request not streamed', async () => {
    const fed = fedResponse('application/json');
    const init = { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ content: '"stream": true' }] }) };
    expect(await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', init)).toBe(fed.response);
  });

  // Found by mutation: each of these could go with every test passing.
  it('passes on untouched the answer of a request that says stream false', async () => {
    const fed = fedResponse('application/json');
    const init = { method: 'POST', body: JSON.stringify({ model: 'm', stream: false, messages: [] }) };
    expect(await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', init)).toBe(fed.response);
  });

  it.each(['id: 1\n', 'retry: 3000\n', 'event: message\n', ': keep-alive\n'])(
    'passes on a stream whose first line is %j, another SSE field or a comment, as an event stream',
    async (first) => {
      const fed = fedResponse('text/plain');
      fed.write(first);
      const response = await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', STREAMED);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      fed.end();
      expect(await response.text()).toBe(first);
    },
  );

  it('quotes the first 200 characters of a longer page', async () => {
    const fed = fedResponse('text/html');
    fed.write(`<html>${'x'.repeat(300)}</html>`);
    fed.end();
    const error = await fetchRefusingNonStreamAnswers(fed.fetch)('https://provider/v1/chat', STREAMED).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(new RegExp(`: <html>${'x'.repeat(194)}…$`));
  });
});

describe('a streamed request answered with an HTTP error', () => {
  // Found by mutation: refused as no event stream, its status (a 429, a 500) would be lost to the caller.
  it('passes the error on untouched, for its status to be reported', async () => {
    const response = new Response(JSON.stringify({ error: { message: 'overloaded' } }), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    });
    const fetch = (async () => response) as unknown as typeof globalThis.fetch;
    expect(await fetchRefusingNonStreamAnswers(fetch)('https://provider/v1/chat', STREAMED)).toBe(response);
  });

  // An event stream that ends before its first event was cut off on its way, which the stream check reports.
  it('passes on a body labelled as an event stream that ended holding nothing but white space', async () => {
    const fed = fedResponse('text/event-stream');
    fed.write('\n');
    fed.end();
    const fetch = fetchCheckingAnswerStreams(fetchRefusingNonStreamAnswers(fed.fetch));
    const response = await fetch('https://provider/v1/chat', STREAMED);
    await expect(response.text()).rejects.toBeInstanceOf(AnswerCutOffError);
  });
});
