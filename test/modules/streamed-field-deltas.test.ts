/**
 * README (Module processes): "a text field's deltas add up to its value ..., and a delta that starts the field over
 * (a retry, another of a MultiChainComparison's samples) comes with `restart: true`", against streams sent chunk by
 * chunk. Found by reviews:
 * - a model that ended a field with white space (a closing line break, very common, or a space before the next
 *   field's line) got no retry, yet its listener heard the white space and then the whole field again, marked as a
 *   restart: Ax trims a field's final value, and the deltas passed on the way were never trimmed at their end;
 * - a retry whose stream sent the field's label alone first lost its restart: noticed on the empty text, carried by
 *   no delta, and the retry's text was heard as going on from the first try's.
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

/** The output and the deltas of one execution of a Predict of `signature`, answered by one stream per try. */
async function deltasOf(signature: string, ...tries: (readonly string[])[]) {
  const llm = createLanguageModel({ provider: 'openai', url: server.url, key: 'sk', model: 'gpt-4o-mini' });
  const runtime = await Runtime.start({ llm });
  try {
    const session = await runtime.session('deltas');
    const qa = await session.module('qa', { type: 'Predict', signature, maxRetries: tries.length - 1 });
    const deltas: { field: string; delta: string; restart?: boolean }[] = [];
    qa.on('module.delta', ({ field, delta, restart }) =>
      deltas.push(restart ? { field, delta, restart } : { field, delta }),
    );
    server.reply(...tries.map(tokenStream));
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

describe('the deltas of a field a retry starts over', () => {
  it('start it over (restart) also when the retry sends the label alone first', async () => {
    // The first try lacks the score, which Ax asks for again.
    const { output, deltas } = await deltasOf(
      'question:string -> answer:string, score:number',
      ['Answer: Paris', ' is big'],
      ['Answer:', ' Lyon\nScore: 3'],
    );
    expect(output).toEqual({ answer: 'Lyon', score: 3 });
    // Was: 'Paris', ' is big', then 'Lyon' with no restart, which a follower read as 'Paris is bigLyon'.
    expect(deltas).toEqual([
      { field: 'answer', delta: 'Paris' },
      { field: 'answer', delta: ' is big' },
      { field: 'answer', delta: 'Lyon', restart: true },
    ]);
  });
});

describe('the deltas of consecutive fields', () => {
  // Found by the LLM audit: a field's last characters, streamed in the chunk that opens the next field, were heard only
  // at the end of the execution, after every delta of the next field: a client printing deltas as they come showed
  // 'The sky is blu', the whole detail, then 'e'.
  it('come field after field: a field is heard whole before the next one starts', async () => {
    const { output, deltas } = await deltasOf('question:string -> answer:string, detail:string', [
      'Answer',
      ': The sky is blu',
      'e\nDetail',
      ': Rayleigh',
      ' scattering',
    ]);
    expect(output).toEqual({ answer: 'The sky is blue', detail: 'Rayleigh scattering' });
    expect(deltas).toEqual([
      { field: 'answer', delta: 'The sky is blu' },
      { field: 'answer', delta: 'e' },
      { field: 'detail', delta: 'Rayleigh' },
      { field: 'detail', delta: ' scattering' },
    ]);
  });
});
