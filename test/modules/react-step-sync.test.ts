import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Runtime,
  ValidationError,
  VariableAwareReAct,
  createLanguageModel,
  type ModuleTool,
  type Session,
} from '../../src/index.js';
import { OpenAIStub, text, toolCall } from '../support/openai-stub.js';
import { REACT_AGENT_SPEC } from '../support/react-agent-spec.js';

/** A tool that runs the next of `actions` at each call (each changes the session between two ReAct steps). */
function steppingTool(actions: (() => Promise<unknown>)[]): ModuleTool {
  return {
    name: 'lookup',
    description: 'Look up a fact',
    parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
    func: async () => {
      await actions.shift()?.();
      return 'fact: 42';
    },
  };
}

let stub: OpenAIStub;
let runtime: Runtime;
afterEach(async () => {
  await runtime.stop();
  await stub.close();
});

/** The stub's model, as every module here talks to it. */
const stubModel = () =>
  createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });

/**
 * A runtime's ReAct module `agent` in session `sessionId`, its temperature bound to the json variable `knob` (0.2),
 * with the stepping tool: each action pushed on `actions` runs between two of its steps.
 */
async function runtimeAgent(sessionId: string) {
  const actions: (() => Promise<unknown>)[] = [];
  stub = await OpenAIStub.start();
  runtime = await Runtime.start({ llm: stubModel(), tools: [steppingTool(actions)] });
  const session = await runtime.session(sessionId);
  await session.defineVariable('knob', 'json', 0.2);
  const agent = await session.module('agent', REACT_AGENT_SPEC);
  return { session, agent, actions };
}

/** An embedded session `sessionId` with the json variable `knob` (0.2), on a runtime with no model of its own. */
async function knobSession(sessionId: string): Promise<Session> {
  stub = await OpenAIStub.start();
  runtime = await Runtime.start();
  const session = await runtime.session(sessionId);
  await session.defineVariable('knob', 'json', 0.2);
  return session;
}

describe('a sync between the steps of a ReAct execution that is refused', () => {
  it("is in the module process's result (the first one) and a module.syncFailed event per refused sync", async () => {
    const { session, agent, actions } = await runtimeAgent('react-sync');
    const refused: { executionId: string; code: string }[] = [];
    agent.on('module.syncFailed', (event) => refused.push({ executionId: event.executionId, code: event.error.code }));
    // The module process has no onSyncError handler: a refused step sync is also a process warning, as before.
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      // Every sync goes through: no syncFailed field at all.
      actions.push(() => session.setVariable('knob', 0.9));
      stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
      const fine = await agent.execute({ question: 'q' });
      expect(fine).not.toHaveProperty('syncFailed');
      expect(refused).toEqual([]);

      // Between the steps: first a value temperature cannot take, then no variable at all.
      actions.push(
        () => session.setVariable('knob', 'hot'),
        () => session.deleteVariable('knob'),
      );
      stub.reply(toolCall('lookup', { q: 'x' }), toolCall('lookup', { q: 'y' }), text('Answer: 42'));
      const stale = await agent.execute({ question: 'q' });
      expect(stale.output).toEqual({ answer: '42' });
      expect(stale.syncFailed).toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining('temperature'),
      });
      expect(refused).toEqual([
        { executionId: stale.executionId, code: 'validation_failed' },
        { executionId: stale.executionId, code: 'variable_not_found' },
      ]);
      expect(stale.provenance).toEqual({ knob: 2 });
    } finally {
      warning.mockRestore();
    }
    // Each later step was sent the last good value.
    expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.2, 0.9, 0.9, 0.9, 0.9]);
  });

  it("goes to the module's onSyncError handler and to the forward's onSyncFailed listener", async () => {
    const session = await knobSession('react-sync-mixin');
    const handled: Error[] = [];
    const told: Error[] = [];
    const module = new VariableAwareReAct('question:string -> answer:string', {
      session,
      llm: stubModel(),
      maxRetries: 0,
      tools: [steppingTool([() => session.setVariable('knob', 'hot')])],
      onSyncError: (error) => handled.push(error),
    });
    await module.bindToVariable('temperature', 'knob');
    stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
    const result = await module.forward({ question: 'q' }, { onSyncFailed: (error) => told.push(error) });
    expect(result.output).toEqual({ answer: '42' });
    expect(handled).toHaveLength(1);
    expect(handled[0]).toBeInstanceOf(ValidationError);
    expect(told).toEqual(handled);
    expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.2, 0.2]);
  });
});

describe('the syncs between the steps of a ReAct forward', () => {
  it('skips them with autoSync false, unless syncBetweenSteps asks for them', async () => {
    const session = await knobSession('react-autosync');
    const actions: (() => Promise<unknown>)[] = [];
    const module = new VariableAwareReAct('question:string -> answer:string', {
      session,
      llm: stubModel(),
      maxRetries: 0,
      tools: [steppingTool(actions)],
    });
    await module.bindToVariable('temperature', 'knob');
    const run = async (value: number, options: { autoSync: false; syncBetweenSteps?: boolean }) => {
      actions.push(() => session.setVariable('knob', value));
      stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
      return module.forward({ question: 'q' }, options);
    };
    // The tool changes the variable between the two steps: the second step is sent what the first was.
    expect((await run(0.9, { autoSync: false })).provenance).toEqual({ knob: 1 });
    expect(await run(0.5, { autoSync: false, syncBetweenSteps: true })).toMatchObject({ provenance: { knob: 3 } });
    expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.2, 0.2, 0.2, 0.5]);
  });
});

describe('a sync between the steps of a ReAct execution that changed a value', () => {
  // Found in an audit: the step's sync applied the value (and called onChange), and no module.synced ever told of it.
  it('is a module.synced event of its execution; one that changed nothing is none', async () => {
    const { session, agent, actions } = await runtimeAgent('react-synced');
    const synced: { executionId: string; changes: unknown }[] = [];
    agent.on('module.synced', (event) =>
      synced.push({ executionId: event.executionId, changes: event.outcome.changes }),
    );
    actions.push(
      () => session.setVariable('knob', 0.9),
      async () => undefined,
    );
    stub.reply(toolCall('lookup', { q: 'x' }), toolCall('lookup', { q: 'y' }), text('Answer: 42'));
    const changed = await agent.execute({ question: 'q' });
    stub.reply(text('Answer: 42'));
    const next = await agent.execute({ question: 'q' });
    expect(stub.chatRequests.map((request) => request.body.temperature)).toEqual([0.2, 0.9, 0.9, 0.9]);
    expect(synced).toEqual([
      { executionId: changed.executionId, changes: {} },
      { executionId: changed.executionId, changes: { temperature: [0.2, 0.9] } },
      { executionId: next.executionId, changes: {} },
    ]);
  });

  it("is told to an embedded forward's onStepSynced listener", async () => {
    const session = await knobSession('react-synced-mixin');
    const module = new VariableAwareReAct('question:string -> answer:string', {
      session,
      llm: stubModel(),
      maxRetries: 0,
      tools: [steppingTool([() => session.setVariable('knob', 0.9)])],
    });
    await module.bindToVariable('temperature', 'knob');
    const told: unknown[] = [];
    stub.reply(toolCall('lookup', { q: 'x' }), text('Answer: 42'));
    await module.forward({ question: 'q' }, { onStepSynced: (changes) => told.push(changes) });
    expect(told).toEqual([{ temperature: [0.2, 0.9] }]);
  });
});
