/**
 * A provider's 401 and 403 keep their statuses (Ax folds both into one error without it), also when two executions
 * send the same body and are refused together, the first one's answer read last.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError, createLanguageModel } from '../../src/index.js';
import { VariableAwarePredict } from '../../src/modules/index.js';
import { fetchNotingRefusals, takeRefusalStatus } from '../../src/modules/refusal-status.js';
import { FakeSession } from '../support/fake-session.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A provider answering 403 to every request: to the first with its headers at once and its body 300 ms later. */
async function refusingProvider(): Promise<string> {
  let requests = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const first = requests++ === 0;
      const body = JSON.stringify({ error: { message: `no access to this model`, type: 'invalid_request_error' } });
      response.writeHead(403, { 'content-type': 'application/json' });
      response.flushHeaders();
      setTimeout(() => response.end(body), first ? 300 : 50);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the provider has no port');
  return `http://127.0.0.1:${address.port}/v1`;
}

describe('refusal statuses', () => {
  // Found by a second review: read oldest first, a refusal nobody read stood for every later one of the same body.
  it('reads the newest refusal of a body first, so one never read does not stand for a later one', async () => {
    const answering = (status: number) => fetchNotingRefusals(async () => new Response('{}', { status }));
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'same' }] });
    await answering(403)('http://provider/v1/chat/completions', { method: 'POST', body });
    await answering(401)('http://provider/v1/chat/completions', { method: 'POST', body });
    expect(takeRefusalStatus(JSON.parse(body))).toBe(401);
  });

  it('reports each of two refusals of the same body with the status that came with it', async () => {
    const llm = createLanguageModel({ provider: 'openai', url: await refusingProvider(), key: 'k', model: 'm' });
    const session = new FakeSession('refused', {});
    const predict = () => new VariableAwarePredict('question:string -> answer:string', { session, llm, maxRetries: 0 });
    const first = predict()
      .forward({ question: 'same' })
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await predict()
      .forward({ question: 'same' })
      .catch((e: unknown) => e);
    for (const refusal of [second, await first]) {
      expect(refusal).toBeInstanceOf(ProviderError);
      expect(refusal).toMatchObject({ status: 403 });
    }
  });
});
