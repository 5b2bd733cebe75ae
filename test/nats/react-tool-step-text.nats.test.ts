/**
 * A ReAct step that calls a tool may carry text besides the call ("Let me look that up."), as many models write.
 * That text is not an answer: the step's answer is the tool call. Streamed, Ax glued it in front of the final
 * answer's field (one stream per forward), so a node (which always wants deltas) or a listener changed the answer
 * (found in review). A ReAct is never streamed: its deltas come from its answer, whole.
 */
import { describe, expect, it } from 'vitest';
import { Runtime, type ModuleTool } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { text, useOpenAIStub, type RecordedRequest, type StubReply } from '../support/openai-stub.js';

const fx = useNatsFixture();
const openai = useOpenAIStub();

const SPEC = {
  type: 'ReAct',
  signature: 'question:string -> answer:string',
  tools: ['lookup'],
  maxRetries: 0,
} as const;

const lookup: ModuleTool = { name: 'lookup', description: 'Look a fact up', func: () => 'the answer is 42' };

const CALL = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } };
const PREAMBLE = 'Let me look that up.';

/** The first step: some text, then a tool call, streamed or whole as the request asks. */
function toolStep(request: RecordedRequest): StubReply {
  const base = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'gpt-4o-mini' };
  if (!request.body.stream) {
    return {
      kind: 'raw',
      contentType: 'application/json',
      body: JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: PREAMBLE, tool_calls: [CALL] },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      }),
    };
  }
  const chunk = { ...base, object: 'chat.completion.chunk' };
  const events = [
    { ...chunk, choices: [{ index: 0, delta: { role: 'assistant', content: PREAMBLE }, finish_reason: null }] },
    { ...chunk, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...CALL }] }, finish_reason: null }] },
    { ...chunk, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
  ];
  return {
    kind: 'raw',
    contentType: 'text/event-stream',
    body: events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n',
  };
}

/** First request: the tool step; once the tool's result is in the conversation: the final answer. */
function script(request: RecordedRequest): StubReply {
  const toolResultSent = (request.body.messages as { role: string }[]).some((message) => message.role === 'tool');
  return toolResultSent ? text('Answer: 42') : toolStep(request);
}

describe('ReAct: text the model writes beside a tool call', () => {
  it('is not part of the answer embedded, with or without a delta listener', async () => {
    const runtime = await Runtime.start({ llm: openai.llm(), tools: [lookup] });
    try {
      const session = await runtime.session('preamble-embedded');
      openai.stub().fallback = script;
      const quiet = await session.module('quiet', SPEC);
      const whole = await quiet.execute({ question: 'q' });
      expect(whole.output).toEqual({ answer: '42' });

      const listened = await session.module('listened', SPEC);
      const deltas: string[] = [];
      listened.on('module.delta', (event) => deltas.push(event.delta));
      const streamed = await listened.execute({ question: 'q' });
      // The same replies, with a listener that wants deltas: the answer does not change, and the deltas add up to it.
      expect(streamed.output).toEqual({ answer: '42' });
      expect(deltas).toEqual(['42']);
      expect(openai.stub().chatRequests.map((request) => request.body.stream ?? false)).toEqual([
        false,
        false,
        false,
        false,
      ]);
    } finally {
      await runtime.stop();
    }
  });

  it('is not part of the answer a NATS node gives a remote client', async () => {
    await fx().runtime(fx().buckets(), { llm: openai.llm(), tools: [lookup] });
    const client = await fx().client();
    const session = await client.session('preamble-remote');
    const agent = await session.module('agent', SPEC);
    openai.stub().fallback = script;
    const result = await agent.execute({ question: 'q' });
    // Two requests: the tool step and the answer (nothing else explains the output).
    expect(openai.stub().chatRequests).toHaveLength(2);
    expect(result.output).toEqual({ answer: '42' });
  });
});
