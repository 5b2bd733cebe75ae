/**
 * README (Errors, provider_unavailable): `malformed_response` is "a body that is not a chat completion: ... JSON of
 * another shape, as a gateway's error object sent with HTTP 200 is", quoting what the provider said. A gateway that
 * answers a streamed request with its error object as the whole body, under the `text/event-stream` label the
 * request asked for, is reported instead as a stream cut off on its way (`unreachable`, "no finish reason, no end
 * marker"), the gateway's words lost: non-stream-answer.ts reads the start of a streamed answer only when it is not
 * labelled `text/event-stream`, and answer-stream-check.ts finds no event in it and calls it cut off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { createLanguageModel } from '../../src/modules/index.js';
import { SseServer } from '../support/scripted-sse-server.js';

let server: SseServer;
beforeAll(async () => {
  server = await SseServer.start();
});
afterAll(async () => {
  await server.close();
});

const SAID = 'The upstream model is overloaded, please retry';

describe('a streamed request answered with an error object labelled as an event stream', () => {
  it('is malformed_response quoting the gateway, not a stream cut off on its way', async () => {
    const llm = createLanguageModel({ provider: 'openai', url: server.url, key: 'sk', model: 'gpt-4o-mini' });
    const runtime = await Runtime.start({ llm });
    try {
      const session = await runtime.session('labelled-error');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      qa.on('module.delta', () => {});
      server.reply({ writes: [JSON.stringify({ error: { message: SAID, type: 'server_error', code: 503 } })] });
      const error = (await qa.execute({ question: 'q' }).catch((e: unknown) => e)) as {
        code?: string;
        message?: string;
        details?: Record<string, unknown>;
      };
      expect(server.requests.at(-1)?.body.stream).toBe(true);
      // Was: reason 'unreachable', "the answer stream ended before the answer did (...): it was cut off".
      expect(error).toMatchObject({ code: 'provider_unavailable', details: { reason: 'malformed_response' } });
      expect(error.message).toContain(SAID);
    } finally {
      await runtime.stop();
    }
  });
});
