import { describe, expect, it } from 'vitest';
import { ToolFailedError, VariableLockedError, errorFromJSON } from '../../src/errors.js';
import { type LanguageModel, type ModuleTool, VariableAwareReAct } from '../../src/modules/index.js';
import type { FakeSession } from '../support/fake-session.js';
import { type OpenAIStub, text, toolCall } from '../support/openai-stub.js';
import { SIGNATURE, useWire } from '../support/openai-wire.js';

let stub: OpenAIStub;
let llm: LanguageModel;
let session: FakeSession;

useWire((wire) => ({ stub, llm, session } = wire));

describe('OpenAI protocol (real Ax provider against the local stub)', () => {
  it('sends a variable changed by a ReAct tool call on the following step', async () => {
    const setTemperature: ModuleTool = {
      name: 'setTemperature',
      description: 'Sets the sampling temperature for the next steps',
      parameters: {
        type: 'object',
        properties: { value: { type: 'number', description: 'new temperature' } },
        required: ['value'],
      },
      func: async (args) => {
        await session.setVariable('llm_temperature', args.value);
        return 'done';
      },
    };
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, maxRetries: 0, tools: [setTemperature] });
    await module.bindToVariable('temperature', 'llm_temperature');
    stub.reply(toolCall('setTemperature', { value: 0.2 }), text('Answer: cooled down'));
    const result = await module.forward({ question: 'cool down, then answer' });
    expect(result.output).toEqual({ answer: 'cooled down' });
    const steps = stub.chatRequests.map((r) => r.body);
    expect(steps).toHaveLength(2);
    expect(steps[0]?.temperature).toBe(0.7);
    expect(steps[0]?.tools?.[0]?.function?.name).toBe('setTemperature');
    expect(steps[1]?.temperature).toBe(0.2);
    expect(module.temperature).toBe(0.2);
    expect(result.provenance).toEqual({ llm_temperature: 2 });
  });

  // Found by a review: the step sync's model was never checked on the wire, only its sampling settings.
  it('sends a model changed by a ReAct tool call on the following step', async () => {
    const switchModel: ModuleTool = {
      name: 'switchModel',
      description: 'Switches the model used for the next steps',
      parameters: { type: 'object', properties: { model: { type: 'string' } }, required: ['model'] },
      func: async (args) => {
        await session.setVariable('llm_model', args.model);
        return 'done';
      },
    };
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, maxRetries: 0, tools: [switchModel] });
    await module.bindToVariable('model', 'llm_model');
    stub.reply(toolCall('switchModel', { model: 'gpt-4o' }), text('Answer: switched'));
    const result = await module.forward({ question: 'switch, then answer' });
    expect(result.output).toEqual({ answer: 'switched' });
    expect(stub.chatRequests.map((r) => r.body.model)).toEqual(['gpt-4.1-mini', 'gpt-4o']);
    expect(result.provenance).toEqual({ llm_model: 2 });
  });

  it('tells a ReAct tool that its execution was cancelled, through the signal it is given', async () => {
    let started!: () => void;
    const toolStarted = new Promise<void>((resolve) => (started = resolve));
    let sawAbort = false;
    const slow: ModuleTool = {
      name: 'slowLookup',
      description: 'Looks something up, slowly',
      func: (_args, { signal }) =>
        new Promise((resolve, reject) => {
          started();
          const timer = setTimeout(() => resolve('late'), 2000);
          signal?.addEventListener('abort', () => {
            sawAbort = true;
            clearTimeout(timer);
            reject(new Error('lookup stopped'));
          });
        }),
    };
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, maxRetries: 0, tools: [slow] });
    stub.reply(toolCall('slowLookup', {}), text('Answer: never'));
    const controller = new AbortController();
    const cancelled = module.forward({ question: 'q' }, { abortSignal: controller.signal });
    await toolStarted;
    controller.abort(new Error('caller gave up'));
    await expect(cancelled).rejects.toThrow(/caller gave up/);
    expect(sawAbort).toBe(true);
    expect(stub.chatRequests).toHaveLength(1);
  });

  it('fails a ReAct execution whose tool throws with ToolFailedError naming the tool, without asking again', async () => {
    const lookup: ModuleTool = {
      name: 'lookupPlanet',
      description: 'Looks up a planet by name',
      parameters: { type: 'object', properties: { name: { type: 'string', description: 'planet' } } },
      func: () => {
        throw new Error('planet database offline');
      },
    };
    // Ax's default retries stay on: a tool's failure is not the model's to correct, so nothing is sent again.
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, tools: [lookup] });
    stub.reply(toolCall('lookupPlanet', { name: 'Mars' }), text('Answer: never asked'));
    const error = await module.forward({ question: 'how far is Mars?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailedError);
    expect(error).toMatchObject({
      code: 'tool_failed',
      tool: 'lookupPlanet',
      toolMessage: 'planet database offline',
      message: "tool 'lookupPlanet' failed: planet database offline",
    });
    expect(stub.chatRequests).toHaveLength(1);
    expect(stub.chatRequests[0]?.body.tools?.[0]?.function?.name).toBe('lookupPlanet');
    const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(error)) as ReturnType<ToolFailedError['toJSON']>);
    expect(rebuilt).toBeInstanceOf(ToolFailedError);
    expect(rebuilt).toMatchObject({ tool: 'lookupPlanet', toolMessage: 'planet database offline' });
  });

  it("names the Tether error a ReAct tool threw (its code in details), not as the execution's own", async () => {
    const write: ModuleTool = {
      name: 'setTemperature',
      description: 'Sets the sampling temperature',
      func: () => {
        throw new VariableLockedError('llm_temperature', 'ops', 'tool');
      },
    };
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, maxRetries: 0, tools: [write] });
    stub.reply(toolCall('setTemperature', {}), text('Answer: never asked'));
    const error = await module.forward({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailedError);
    expect((error as ToolFailedError).details).toMatchObject({
      tool: 'setTemperature',
      toolErrorCode: 'variable_locked',
    });
    expect((error as ToolFailedError).cause).toBeInstanceOf(VariableLockedError);
  });

  it('keeps the starting parameters for every ReAct step when syncBetweenSteps is off', async () => {
    const setTemperature: ModuleTool = {
      name: 'setTemperature',
      description: 'Sets the sampling temperature for the next steps',
      parameters: { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] },
      func: async (args) => {
        await session.setVariable('llm_temperature', args.value);
        // A direct change of the attribute mid-execution must not reach the next step either.
        module.temperature = 1.9;
        return 'done';
      },
    };
    const module = new VariableAwareReAct(SIGNATURE, { session, llm, maxRetries: 0, tools: [setTemperature] });
    await module.bindToVariable('temperature', 'llm_temperature');
    stub.reply(toolCall('setTemperature', { value: 0.2 }), text('Answer: unchanged'));
    const result = await module.forward({ question: 'q' }, { syncBetweenSteps: false });
    expect(stub.chatRequests.map((r) => r.body.temperature)).toEqual([0.7, 0.7]);
    expect(result.provenance).toEqual({ llm_temperature: 1 });
  });
});
