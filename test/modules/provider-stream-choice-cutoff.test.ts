/**
 * README (Errors, provider_unavailable): "a streamed answer ended without a finish reason: cut off on its way" is
 * `provider_unavailable` (`unreachable`), never a result. A MultiChainComparison asks for its samples in one
 * streamed request (`n`), and the provider streams each choice with its own finish reason. When the connection is
 * cut after choice 0 finished but while choice 1 was still being written (no finish reason for it, no [DONE]), the
 * check of streamed answers (answer-stream-check.ts) takes choice 0's finish reason as the whole stream's, and the
 * truncated choice 1 becomes a sample, and here the result.
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

/** A chunk of choice `index`. */
function frame(index: number, delta: Record<string, unknown>, finish: string | null): string {
  const body = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };
  return `data: ${JSON.stringify({ ...body, choices: [{ index, delta, finish_reason: finish }] })}\n\n`;
}

/** The outcome of a two-sample MultiChainComparison answered by `writes`: its output, or its error's code and details. */
async function twoSamplesAnsweredBy(writes: readonly string[]) {
  const llm = createLanguageModel({ provider: 'openai', url: server.url, key: 'sk', model: 'gpt-4o-mini' });
  const runtime = await Runtime.start({ llm });
  try {
    const session = await runtime.session('cut-choices');
    const qa = await session.module('qa', {
      type: 'MultiChainComparison',
      signature: 'question:string -> answer:string',
      samples: 2,
      maxRetries: 0,
      pick: () => 1,
    });
    qa.on('module.delta', () => {}); // streamed, as every execution on a NATS node is
    server.reply({ writes });
    const outcome = await qa.execute({ question: 'What is the capital of France?' }).then(
      (result) => ({ output: result.output }),
      (error: { code?: string; details?: Record<string, unknown> }) => ({ code: error.code, details: error.details }),
    );
    expect(server.requests.at(-1)?.body).toMatchObject({ stream: true, n: 2 });
    return outcome;
  } finally {
    await runtime.stop();
  }
}

describe('a streamed answer of several choices', () => {
  it('fails as provider_unavailable when one choice finished and another was still being written', async () => {
    const outcome = await twoSamplesAnsweredBy([
      frame(0, { role: 'assistant', content: 'Answer: Paris' }, null),
      frame(1, { role: 'assistant', content: 'Answer: Paris, the cap' }, null),
      frame(0, {}, 'stop'),
      // Choice 1 goes on, then the connection closes: no finish reason for it, no [DONE].
      frame(1, { content: 'ital of Fr' }, null),
    ]);
    // Was { output: { answer: 'Paris, the capital of Fr' } }: the cut-off choice given as the answer.
    expect(outcome).toMatchObject({ code: 'provider_unavailable', details: { reason: 'unreachable' } });
  });

  it('is complete when each choice finished, also without an end marker', async () => {
    const outcome = await twoSamplesAnsweredBy([
      frame(0, { role: 'assistant', content: 'Answer: Paris' }, null),
      frame(1, { role: 'assistant', content: 'Answer: Paris, the capital' }, null),
      frame(0, {}, 'stop'),
      frame(1, {}, 'stop'),
    ]);
    expect(outcome).toEqual({ output: { answer: 'Paris, the capital' } });
  });
});
