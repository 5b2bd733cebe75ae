import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('streaming');

const spec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

describe('streaming a module execution', () => {
  // Ax leaves `stream` out of a request it does not stream, which the OpenAI protocol reads as false.
  it('asks for a whole reply when nobody listens for deltas, which keeps a label the model put first out of the answer', async () => {
    const qa = await session().module('qa', spec);
    stub().reply(text('Reasoning: r\nAnswer: ok'));
    const { output } = await qa.execute({ question: 'q' });
    expect(stub().chatRequests.map((request) => request.body.stream === true)).toEqual([false]);
    expect(output).toEqual({ answer: 'ok' });
  });

  it('asks for a whole reply while only listeners of other events are attached', async () => {
    const qa = await session().module('qa', spec);
    const heard: string[] = [];
    for (const type of ['module.result', 'module.failed', 'module.synced', 'module.syncFailed'] as const)
      qa.on(type, (event) => heard.push(event.type));
    qa.onState(() => {});
    stub().reply(text('Reasoning: r\nAnswer: ok'));
    const { output } = await qa.execute({ question: 'q' });
    expect(stub().chatRequests.map((request) => request.body.stream === true)).toEqual([false]);
    expect(output).toEqual({ answer: 'ok' });
    expect(heard).toEqual(['module.synced', 'module.result']);
  });

  it('streams once a module.delta listener is attached, and stops when it is removed', async () => {
    const qa = await session().module('qa', spec);
    const deltas: string[] = [];
    const off = qa.on('module.delta', (event) => deltas.push(event.delta));
    stub().reply(text('Answer: streamed'), text('Answer: whole'));
    expect((await qa.execute({ question: 'one' })).output).toEqual({ answer: 'streamed' });
    expect(deltas.join('')).toBe('streamed');
    off();
    expect((await qa.execute({ question: 'two' })).output).toEqual({ answer: 'whole' });
    expect(stub().chatRequests.map((request) => request.body.stream === true)).toEqual([true, false]);
  });
  it("streams every field whole: a field's end that comes with the next field's label is passed on too", async () => {
    const qa = await session().module('qa', {
      ...spec,
      signature: 'question:string -> answer:string, confidence:string',
    });
    const deltas: Record<string, string> = {};
    qa.on('module.delta', (event) => void (deltas[event.field] = (deltas[event.field] ?? '') + event.delta));
    // The stub streams a reply in two chunks: the first ends inside the answer, the second holds its end and the
    // confidence's label and value.
    stub().reply(text('Answer: Paris is the capital of France\nConfidence: high'));
    const { output } = await qa.execute({ question: 'q' });
    expect(output).toEqual({ answer: 'Paris is the capital of France', confidence: 'high' });
    expect(deltas).toEqual(output);
  });
  it('marks the delta that starts a field over after a retry, so that applying the deltas gives the output', async () => {
    const qa = await session().module('qa', {
      ...spec,
      signature: 'question:string -> answer:string, confidence:string',
      maxRetries: 1,
    });
    const fields: Record<string, string> = {};
    let restarts = 0;
    qa.on('module.delta', (event) => {
      if (event.restart) restarts += 1;
      fields[event.field] = (event.restart ? '' : (fields[event.field] ?? '')) + event.delta;
    });
    // The first answer lacks its confidence: Ax asks again, and the answer starts over.
    stub().reply(text('Answer: Lyon'), text('Answer: Paris\nConfidence: high'));
    const { output } = await qa.execute({ question: 'q' });
    expect(output).toEqual({ answer: 'Paris', confidence: 'high' });
    expect(restarts).toBe(1);
    expect(fields).toEqual(output);
  });
});
