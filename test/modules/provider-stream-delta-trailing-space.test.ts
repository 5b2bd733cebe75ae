/**
 * README (Module processes): "a text field's deltas add up to its value ..., and a delta that starts the field over
 * (a retry, another of a MultiChainComparison's samples) comes with `restart: true`". A model that streams its answer
 * with white space at the end (a closing line break, very common, or a space before the next field's line) gets no
 * retry, yet its listener hears the white space as deltas and then the whole field again, marked as a restart: Ax
 * trims a field's final value, and the deltas passed on the way (text-deltas.ts) were never trimmed at their end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { createLanguageModel } from '../../src/modules/index.js';
import { SseServer, frame } from '../support/scripted-sse-server.js';

let server: SseServer;
beforeAll(async () => {
  server = await SseServer.start();
});
afterAll(async () => {
  await server.close();
});

/** A stream of `tokens`, one chunk each, finished and ended. */
function tokenStream(tokens: readonly string[]) {
  return {
    writes: [
      ...tokens.map((content, i) => frame(i === 0 ? { role: 'assistant', content } : { content }, null)),
      frame({}, 'stop'),
      'data: [DONE]\n\n',
    ],
  };
}

async function deltasOf(signature: string, tokens: readonly string[]) {
  const llm = createLanguageModel({ provider: 'openai', url: server.url, key: 'sk', model: 'gpt-4o-mini' });
  const runtime = await Runtime.start({ llm });
  try {
    const session = await runtime.session('deltas');
    const qa = await session.module('qa', { type: 'Predict', signature, maxRetries: 0 });
    const deltas: { field: string; delta: string; restart?: boolean }[] = [];
    qa.on('module.delta', ({ field, delta, restart }) =>
      deltas.push(restart ? { field, delta, restart } : { field, delta }),
    );
    server.reply(tokenStream(tokens));
    const { output } = await qa.execute({ question: 'What is the capital of France?' });
    return { output, deltas };
  } finally {
    await runtime.stop();
  }
}

describe("a streamed field's deltas when the model ends it with white space", () => {
  it('add up to its value with no restart when the answer ends with a line break', async () => {
    const { output, deltas } = await deltasOf('question:string -> answer:string', ['Answer', ':', ' Paris', '.\n']);
    expect(output).toEqual({ answer: 'Paris.' });
    // Was: [{ delta: 'Paris' }, { delta: '.\n' }, { delta: 'Paris.', restart: true }].
    expect(deltas.filter((d) => d.restart)).toEqual([]);
    expect(deltas.map((d) => d.delta).join('')).toBe('Paris.');
  });

  it('add up to their values with no restart when a space ends a field before the next one', async () => {
    const { output, deltas } = await deltasOf('question:string -> answer:string, confidence:string', [
      'Answer',
      ':',
      ' Paris',
      ' ',
      '\n',
      'Confidence',
      ':',
      ' high',
    ]);
    expect(output).toEqual({ answer: 'Paris', confidence: 'high' });
    // Was: the answer is heard as 'Paris', ' ', then, after the confidence began, 'Paris' again as a restart.
    expect(deltas.filter((d) => d.restart)).toEqual([]);
    const joined: Record<string, string> = {};
    for (const { field, delta } of deltas) joined[field] = (joined[field] ?? '') + delta;
    expect(joined).toEqual(output);
  });
});
