/**
 * An execution's model and token usage reach a remote client, in its result and its `module.result` event alike, as
 * the node's own handle has them.
 */
import { describe, expect, it } from 'vitest';
import { BridgeError, type ExecutionResult } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { httpError, text, toolCall, useOpenAIStub } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const { stub, llm } = useOpenAIStub();

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

describe('a remote execution result', () => {
  it('names the model and the tokens used, as its module.result event does', async () => {
    const tools = [{ name: 'lookup', description: 'Looks a word up', func: async () => 'found' }];
    await fx().runtime(fx().buckets(), { llm: llm(), tools });
    const session = await (await fx().client()).session('usage');
    await session.defineVariable('llm_model', 'string', 'gpt-4.1-mini');
    const agent = await session.module('agent', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['lookup'],
      maxRetries: 0,
      bindings: { model: 'llm_model' },
    });
    const heard: ExecutionResult[] = [];
    agent.on('module.result', (event) => heard.push(event.result));
    stub().reply(toolCall('lookup', {}, usage(30, 4)), text('Answer: found', usage(40, 6)));

    const result = await agent.execute({ question: 'q' });
    await waitFor(() => heard.length === 1, { message: 'the module.result event' });

    expect(stub().chatRequests.map((request) => request.body.model)).toEqual(['gpt-4.1-mini', 'gpt-4.1-mini']);
    expect(result.model).toBe('gpt-4.1-mini');
    expect(result.usage).toEqual({ promptTokens: 70, completionTokens: 10, totalTokens: 80 });
    expect(Object.isFrozen(result.usage)).toBe(true);
    expect(heard[0]).toEqual(result);

    // A failed execution's tokens were paid for too: its error names them, as its module.failed event does.
    const failures: unknown[] = [];
    agent.on('module.failed', (event) => failures.push(event.error));
    stub().reply(toolCall('lookup', {}, usage(12, 3)), httpError(400, 'context too long', 'invalid_request_error'));
    const failed = await agent.execute({ question: 'q' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor(() => failures.length === 1, { message: 'the module.failed event' });
    expect(failed).toBeInstanceOf(BridgeError);
    const { code, details } = failed as BridgeError;
    expect([code, details.usage]).toEqual([
      'provider_error',
      { promptTokens: 12, completionTokens: 3, totalTokens: 15 },
    ]);
    expect(failures).toEqual([(failed as BridgeError).toJSON()]);
  });
});
