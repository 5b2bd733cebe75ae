/**
 * An OpenAI-protocol provider that fails after it began a streamed answer sends the failure as an event of the
 * stream, `data: {"error": {"message": ..., "type": "server_error"}}` (OpenAI does so; so do vLLM and LiteLLM). The
 * caller is told what the provider said, as for the same error object sent as a whole answer, not the TypeError Ax's
 * stream reader fails with on it.
 */
import { describe, expect, it } from 'vitest';
import { ProviderUnavailableError } from '../../src/errors.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('stream-error');

const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;

const PROVIDER_SAID = 'The server had an error while processing your request. Sorry about that!';
const errorEvent = `data: ${JSON.stringify({ error: { message: PROVIDER_SAID, type: 'server_error', param: null, code: null } })}\n\n`;

describe('a streamed answer the provider ends with an error event', () => {
  it.each([
    ['before any text', errorEvent],
    ['after some text', chunk({ role: 'assistant', content: 'Answer: Par' }, null) + errorEvent],
  ])('is reported with what the provider said, %s', async (_, body) => {
    const qa = await session().module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      maxRetries: 0,
    });
    qa.on('module.delta', () => {});
    stub().reply({ kind: 'raw', body, contentType: 'text/event-stream' });
    const error = await qa.execute({ question: 'capital of France?' }).catch((e: unknown) => e);
    expect(stub().chatRequests.at(-1)?.body.stream).toBe(true);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ reason: 'malformed_response', details: { moduleId: 'qa' } });
    expect((error as Error).message).toContain(PROVIDER_SAID);
    expect((error as Error).message).not.toContain('Cannot read properties');
  });
});
