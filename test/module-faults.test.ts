import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyMailbox } from '../machines/mailbox.js';
import {
  CallTimeoutError,
  ExecutionAbortedError,
  ProcessExitedError,
  Runtime,
  SessionError,
  ToolFailedError,
  ValidationError,
  createLanguageModel,
  type ModuleEmittedEvent,
} from '../src/index.js';
import type { ModuleHandle } from '../src/modules/module-handle.js';
import { lostExecutionError, namingExecution } from '../src/modules/naming-execution.js';
import type { ModuleLogic } from '../src/modules/module-logic.js';
import type { ProcessRef } from '../src/runtime/process.js';
import { OpenAIStub, text, toolCall } from './support/openai-stub.js';
import { waitFor } from './support/wait-for.js';

const SPEC = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };

type FailedEvent = Extract<ModuleEmittedEvent, { type: 'module.failed' }>;

describe('module faults', () => {
  let runtime: Runtime | undefined;
  let stub: OpenAIStub | undefined;
  afterEach(async () => {
    await runtime?.stop();
    await stub?.close();
  });

  async function slowRuntime(delayMs: number, executionTimeoutMs?: number): Promise<Runtime> {
    stub = await OpenAIStub.start();
    stub.delayMs = delayMs;
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    return Runtime.start({ llm, ...(executionTimeoutMs === undefined ? {} : { executionTimeoutMs }) });
  }

  it('cancels an execution whose caller timed out, so it neither blocks the mailbox nor completes', async () => {
    runtime = await slowRuntime(300);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    await expect(qa.execute({ question: 'slow' }, { timeoutMs: 50 })).rejects.toBeInstanceOf(CallTimeoutError);
    // Cancelled, the abandoned execution ends as a failure; left running, it would end as a completion.
    await waitFor(async () => (await qa.describe()).failed === 1);
    expect(await qa.describe()).toMatchObject({ state: 'idle', completed: 0, failed: 1 });
    stub!.delayMs = 0;
    await qa.execute({ question: 'next' });
    expect(await qa.describe()).toMatchObject({ completed: 1, failed: 1 });
  });

  // Found by a review: a provider slower than the timeout gave a call_timeout that said nothing of where it waited.
  it('says what an execution whose caller timed out was doing: waiting for the model, or queued behind one', async () => {
    runtime = await slowRuntime(400);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const [running, queued] = await Promise.all([
      qa.execute({ question: 'slow' }, { timeoutMs: 150 }).catch((e: unknown) => e),
      qa.execute({ question: 'behind' }, { timeoutMs: 50 }).catch((e: unknown) => e),
    ]);
    expect(running).toBeInstanceOf(CallTimeoutError);
    expect(running).toMatchObject({
      message: expect.stringMatching(/timed out after 150 ms while executing \(its program, and the model's answers/),
      details: { stage: 'executing', moduleId: 'qa' },
    });
    expect(queued).toMatchObject({
      message: expect.stringMatching(/timed out after 50 ms while queued behind other executions of the module$/),
      details: { stage: 'queued' },
    });
  });

  // Found by a review: the running execution's cancel took the next one out of the mailbox before that one's own
  // timeout, due in the same pass of the timers, was read; it was reported as syncing or executing, and its request
  // begun. A pass of the timers is the machine's to choose, so the two callers are played here in one turn.
  it('cancels a timed-out running execution only once the timeouts due with it have read what theirs were doing', async () => {
    const execution = (executionId: string) => ({ executionId, inputs: {} });
    let snapshot = {
      value: 'executing',
      context: { current: execution('e1'), mailbox: emptyMailbox().with(execution('e2')) },
    };
    const process = { alive: true, getSnapshot: () => snapshot } as unknown as ProcessRef<ModuleLogic>;
    const cancelled: string[] = [];
    const cancel = (executionId: string) => () => {
      cancelled.push(executionId);
      // As the module machine does: the running one's cancel takes the next from the mailbox.
      if (executionId === 'e1')
        snapshot = { value: 'syncing', context: { current: execution('e2'), mailbox: emptyMailbox() } };
    };
    const timedOut = (executionId: string) =>
      lostExecutionError(
        new CallTimeoutError('qa', 150),
        process,
        { sessionId: 's', moduleId: 'qa', executionId },
        cancel(executionId),
      );
    const running = timedOut('e1') as CallTimeoutError;
    const queued = timedOut('e2') as CallTimeoutError;
    expect([running.details?.stage, queued.details?.stage]).toEqual(['executing', 'queued']);
    // The queued one at once (its cancel takes nothing out of the mailbox), the running one after the timers' pass.
    expect(cancelled).toEqual(['e2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancelled).toEqual(['e2', 'e1']);
    // e2, which that cancel made the current one, is syncing its bound variables: a timeout now says so.
    expect((timedOut('e2') as CallTimeoutError).message).toMatch(/while syncing its bound variables$/);
  });

  it('refuses an already aborted signal with ExecutionAbortedError and sends nothing', async () => {
    runtime = await slowRuntime(0);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const controller = new AbortController();
    controller.abort('not now');
    const refused = await qa.execute({ question: 'never' }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ExecutionAbortedError);
    // Worded as an abort in flight is: the reason in the message and in the details.
    expect((refused as ExecutionAbortedError).message).toMatch(/was aborted: not now$/);
    expect((refused as ExecutionAbortedError).details).toMatchObject({ reason: 'not now' });
    expect(stub!.chatRequests).toHaveLength(0);
  });

  it('aborts with a reason String() cannot convert, before and during the execution, as with any other', async () => {
    runtime = await slowRuntime(300);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const early = new AbortController();
    early.abort(Object.create(null));
    await expect(qa.execute({ question: 'never' }, { signal: early.signal })).rejects.toThrow(
      /was aborted: \[object Object\]$/,
    );
    // Aborted while it runs: the abort listener builds its message inside an EventTarget, whose throw would have
    // been uncaught (ending the process) and left the execution running to its completion.
    const late = new AbortController();
    const running = qa.execute({ question: 'slow' }, { signal: late.signal });
    await waitFor(() => stub!.chatRequests.length === 1);
    late.abort(
      Object.assign(Object.create(null) as object, {
        toString() {
          throw new Error('no text');
        },
      }),
    );
    await expect(running).rejects.toBeInstanceOf(ExecutionAbortedError);
    await waitFor(async () => (await qa.describe()).failed === 1);
    expect(await qa.describe()).toMatchObject({ completed: 0, failed: 1 });
  });

  it('lets go of its listener on a signal once the execution ends, completed or timed out', async () => {
    runtime = await slowRuntime(0);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    // One signal for a whole request's executions: each must leave it as it found it.
    const request = new AbortController();
    await qa.execute({ question: 'done' }, { signal: request.signal });
    expect(getEventListeners(request.signal, 'abort')).toEqual([]);
    stub!.delayMs = 300;
    const late = qa.execute({ question: 'slow' }, { signal: request.signal, timeoutMs: 50 });
    await expect(late).rejects.toBeInstanceOf(CallTimeoutError);
    expect(getEventListeners(request.signal, 'abort')).toEqual([]);
    await waitFor(async () => (await qa.describe()).failed === 1);
    request.abort();
    expect(await qa.describe()).toMatchObject({ state: 'idle', completed: 1, failed: 1 });
  });

  it('waits for ever with an Infinity timeout, and refuses a timeout Node cannot count', async () => {
    runtime = await slowRuntime(100, Number.POSITIVE_INFINITY);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    await expect(qa.execute({ question: 'patient' })).resolves.toMatchObject({ moduleId: 'qa' });
    await expect(qa.execute({ question: 'huge' }, { timeoutMs: 3e9 })).rejects.toBeInstanceOf(ValidationError);
    await expect(qa.execute({ question: 'zero' }, { timeoutMs: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('does not let a module created while its session stops outlive the session', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('racing');
    const created = session.module('qa', SPEC);
    await session.stop();
    await expect(created).rejects.toBeInstanceOf(SessionError);
    await waitFor(() => runtime!.whereis('tether.module.racing.qa') === undefined);
  });

  it('stops the modules of a session stopped and reopened in the same tick', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('reused');
    const old = await session.module('qa', SPEC);
    const stopped = session.stop();
    const reopened = await runtime.session('reused');
    await stopped;
    await waitFor(() => !old.alive);
    expect(await reopened.modules()).toEqual([]);
    await expect(reopened.module('qa', SPEC)).resolves.toMatchObject({ moduleId: 'qa' });
  });
  /**
   * Starts one execution that runs (the stub holds its request) and one queued behind it, and listens to the
   * module's failures; `runningId` is the running one's id, from its sync.
   */
  async function busyModule(qa: ModuleHandle) {
    const failed: FailedEvent[] = [];
    const synced: string[] = [];
    qa.on('module.failed', (event) => failed.push(event));
    qa.on('module.synced', (event) => synced.push(event.executionId));
    const callers = [qa.execute({ question: 'running' }), qa.execute({ question: 'queued' })].map((call) =>
      call.catch((error: unknown) => error),
    );
    await waitFor(async () => {
      const { state, queued } = await qa.describe();
      return state === 'executing' && queued === 1;
    });
    return { failed, callers, runningId: () => synced[0] };
  }

  it("announces module.failed for each execution a killed module process held, with its caller's error", async () => {
    runtime = await slowRuntime(30_000);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const { failed, callers, runningId } = await busyModule(qa);
    await runtime.stopProcess('tether.module.s.qa', 'kill');
    const errors = await Promise.all(callers);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProcessExitedError);
      expect(error).toMatchObject({ code: 'process_exited', reason: 'kill' });
    }
    await waitFor(() => failed.length === 2, { message: 'one module.failed per execution held' });
    expect(failed[0]?.executionId).toBe(runningId());
    expect(new Set(failed.map((event) => event.executionId)).size).toBe(2);
    for (const event of failed) {
      expect(event).toEqual({
        type: 'module.failed',
        sessionId: 's',
        moduleId: 'qa',
        executionId: event.executionId,
        error: {
          code: 'process_exited',
          message: (errors[0] as ProcessExitedError).message,
          details: expect.objectContaining({
            target: 'tether.module.s.qa',
            reason: 'kill',
            sessionId: 's',
            moduleId: 'qa',
            executionId: event.executionId,
          }),
        },
      });
    }
  });

  it('names the lost execution in the error its caller gets, as its module.failed event does', async () => {
    runtime = await slowRuntime(30_000);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const { failed, callers, runningId } = await busyModule(qa);
    await runtime.stopProcess('tether.module.s.qa', 'kill');
    const [running, queued] = (await Promise.all(callers)) as ProcessExitedError[];
    await waitFor(() => failed.length === 2, { message: 'one module.failed per execution held' });

    // The caller of the running execution can tell it from the queued one, and find its event.
    expect(running!.details.executionId).toBe(runningId());
    expect(queued!.details.executionId).toEqual(expect.any(String));
    expect(queued!.details.executionId).not.toBe(runningId());
    for (const error of [running!, queued!]) {
      expect(error).toBeInstanceOf(ProcessExitedError);
      const event = failed.find((one) => one.executionId === error.details.executionId);
      expect(error.toJSON()).toEqual(event?.error);
    }
  });

  it('keeps the stack of the exit it names the execution in, and its cause', () => {
    const cause = new Error('the process crashed');
    const exited = new ProcessExitedError('tether.module.s.qa', 'kill', { cause });

    const named = namingExecution(exited, 's', 'qa', 'e1') as ProcessExitedError;

    expect(named.details).toMatchObject({ sessionId: 's', moduleId: 'qa', executionId: 'e1', reason: 'kill' });
    expect(named.stack).toBe(exited.stack);
    expect(named.cause).toBe(cause);
  });

  it('announces the running and the queued execution a stop() dropped as failed (reason shutdown)', async () => {
    runtime = await slowRuntime(30_000);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const { failed, callers, runningId } = await busyModule(qa);
    await qa.stop();
    for (const error of await Promise.all(callers)) expect(error).toMatchObject({ code: 'process_exited' });
    await waitFor(() => failed.length === 2, { message: 'one module.failed per execution dropped' });
    expect(failed.map((event) => event.executionId)).toContain(runningId());
    expect(failed.map((event) => event.error.details)).toEqual([
      expect.objectContaining({ reason: 'shutdown' }),
      expect.objectContaining({ reason: 'shutdown' }),
    ]);
  });

  it('announces nothing at exit for a module that held no execution', async () => {
    runtime = await slowRuntime(0);
    const qa = await (await runtime.session('s')).module('qa', SPEC);
    const failed: FailedEvent[] = [];
    qa.on('module.failed', (event) => failed.push(event));
    await qa.execute({ question: 'done before the stop' });
    await qa.stop();
    expect(failed).toEqual([]);
  });
  it('fails an execution whose ReAct tool throws with tool_failed, for its caller and its listeners', async () => {
    stub = await OpenAIStub.start();
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const lookupPlanet = {
      name: 'lookupPlanet',
      description: 'Looks up a planet by name',
      func: () => {
        throw new Error('planet database offline');
      },
    };
    runtime = await Runtime.start({ llm, tools: [lookupPlanet] });
    const spec = { type: 'ReAct', signature: 'question:string -> answer:string', tools: ['lookupPlanet'] };
    const planets = await (await runtime.session('s')).module('planets', spec);
    const failed: FailedEvent[] = [];
    planets.on('module.failed', (event) => failed.push(event));
    stub.reply(toolCall('lookupPlanet', { name: 'Mars' }));
    const error = await planets.execute({ question: 'how far is Mars?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailedError);
    expect(error).toMatchObject({
      code: 'tool_failed',
      tool: 'lookupPlanet',
      toolMessage: 'planet database offline',
      // Which module's tool it was, as a provider's refusal names its module.
      details: { moduleId: 'planets' },
    });
    expect(failed).toEqual([
      {
        type: 'module.failed',
        sessionId: 's',
        moduleId: 'planets',
        executionId: failed[0]?.executionId,
        error: (error as ToolFailedError).toJSON(),
      },
    ]);
    expect(stub.chatRequests).toHaveLength(1);
    // The module goes on serving.
    expect((await planets.execute({ question: 'and now?' })).output).toEqual({ answer: 'stub answer' });
  });

  it('fails with tool_failed, naming the tool, when a tool throws what is no Error or returns what JSON cannot carry', async () => {
    stub = await OpenAIStub.start();
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const tools = [
      { name: 'throwsBare', thrown: Object.create(null) as unknown, returned: undefined },
      { name: 'returnsBigint', thrown: undefined, returned: 10n },
      { name: 'returnsCycle', thrown: undefined, returned: cycle },
      // JSON would show these to the model as something else, the tool's data lost (found in review).
      { name: 'returnsMap', thrown: undefined, returned: new Map([['Mars', 2]]) },
      { name: 'returnsSetInside', thrown: undefined, returned: { moons: new Set(['Phobos']) } },
      { name: 'returnsFunction', thrown: undefined, returned: () => 'Phobos' },
      { name: 'returnsNaNInside', thrown: undefined, returned: [1, Number.NaN] },
    ].map(({ name, thrown, returned }) => ({
      name,
      description: 'misbehaves',
      func: () => {
        if (thrown !== undefined) throw thrown;
        return returned;
      },
    }));
    runtime = await Runtime.start({ llm, tools });
    const session = await runtime.session('s');
    const expected = {
      throwsBare: '[object Object]',
      returnsBigint: expect.stringMatching(/^returned a value the model cannot be shown: .*BigInt/),
      returnsCycle: expect.stringMatching(/^returned a value the model cannot be shown: .*circular/),
      returnsMap: 'returned a value the model cannot be shown: the result is a Map, which JSON cannot carry',
      returnsSetInside: "returned a value the model cannot be shown: its 'moons' is a Set, which JSON cannot carry",
      returnsFunction: 'returned a value the model cannot be shown: the result is a function, which JSON cannot carry',
      returnsNaNInside: "returned a value the model cannot be shown: its '1' is NaN, which JSON cannot carry",
    };
    for (const [tool, toolMessage] of Object.entries(expected)) {
      const spec = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [tool], maxRetries: 0 };
      const module = await session.module(tool.toLowerCase(), spec);
      stub.reply(toolCall(tool, {}));
      const error = await module.execute({ question: 'q' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ToolFailedError);
      expect(error).toMatchObject({ code: 'tool_failed', tool, toolMessage });
    }
    // None of them reached the model: each execution ended at its tool call.
    expect(stub.chatRequests).toHaveLength(Object.keys(expected).length);
  });

  it('shows the model what JSON carries as it is: text, a Date as its ISO text, an absent value as nothing', async () => {
    stub = await OpenAIStub.start();
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const when = new Date('2026-01-02T03:04:05.000Z');
    const tool = { name: 'when', description: 'tells when', func: () => ({ when, note: undefined, tags: ['a'] }) };
    runtime = await Runtime.start({ llm, tools: [tool] });
    const session = await runtime.session('s');
    const module = await session.module('when', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['when'],
    });
    stub.reply(toolCall('when', {}));
    stub.reply(text('Answer: then'));
    expect((await module.execute({ question: 'q' })).output).toEqual({ answer: 'then' });
    const shown = (stub.chatRequests[1]?.body.messages as { role: string; content: string }[]).find(
      (message) => message.role === 'tool',
    );
    expect(JSON.parse(shown!.content)).toEqual({ when: '2026-01-02T03:04:05.000Z', tags: ['a'] });
  });
});
