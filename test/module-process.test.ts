import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsError,
  ModuleNotFoundError,
  Runtime,
  UnknownModuleError,
  ValidationError,
  type Session,
} from '../src/index.js';
import { waitFor } from './support/wait-for.js';

describe('module process', () => {
  let runtime: Runtime;
  let session: Session;

  beforeEach(async () => {
    runtime = await Runtime.start();
    session = await runtime.session('m1');
    await session.defineVariable('llm_temperature', 'float', 0.3, { constraints: { min: 0, max: 2 } });
    await session.defineVariable('reasoning_module', 'module', 'ChainOfThought');
  });
  afterEach(() => runtime.stop());

  it('goes idle → syncing → executing → idle and returns its output with provenance', async () => {
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
    });
    const states: string[] = [];
    qa.onState((state) => states.push(state));
    await session.setVariable('llm_temperature', 0.9);
    const result = await qa.execute({ question: 'why?' });
    expect(states).toEqual(['idle', 'syncing', 'executing', 'idle']);
    expect(result).toMatchObject({ moduleId: 'qa', moduleType: 'Predict', provenance: { llm_temperature: 2 } });
    // The offline model repeats what it was sent: the synced temperature reached the LLM call.
    expect(result.output.answer).toContain('temperature=0.9');
  });

  it('lets a listener added from inside another listener leave the others every change', async () => {
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const first: string[] = [];
    const second: string[] = [];
    qa.onState((state) => first.push(state));
    // XState has the new snapshot before it tells observers: an onState added meanwhile must not swallow the change.
    const off = qa.on('module.synced', () => {
      off();
      qa.onState((state) => second.push(state));
    });
    await qa.execute({ question: 'q' });
    expect(first).toEqual(['idle', 'syncing', 'executing', 'idle']);
    expect(second.at(-1)).toBe('idle');
  });

  it('goes syncing → syncing when the execution it syncs for is cancelled, naming the next one', async () => {
    // An onChange callback is awaited by the sync: held here, the sync lasts until the test lets it go.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let syncsHeld = 0;
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: { variable: 'llm_temperature', onChange: () => (syncsHeld++, held) } },
    });
    const heard: [string, string | undefined][] = [];
    qa.onState((state, executionId) => heard.push([state, executionId]));
    await session.setVariable('llm_temperature', 0.9);
    const cancel = new AbortController();
    const first = qa.execute({ question: 'cancelled while syncing' }, { signal: cancel.signal });
    const second = qa.execute({ question: 'next' });
    await waitFor(() => syncsHeld === 1, { message: 'the first sync held in its callback' });
    const busy = await qa.describe();
    expect(busy).toMatchObject({ state: 'syncing', queued: 1 });
    cancel.abort();
    await expect(first).rejects.toMatchObject({
      code: 'execution_aborted',
      details: { executionId: busy.executionId },
    });
    const done = await second;
    release();
    // The next execution synced with the value the cancelled one had already taken: no callback again.
    expect(done.output.answer).toContain('temperature=0.9');
    expect(syncsHeld).toBe(1);
    await waitFor(() => heard.at(-1)?.[0] === 'idle', { message: 'back to idle' });
    expect(heard).toEqual([
      ['idle', undefined],
      ['syncing', busy.executionId],
      ['syncing', done.executionId],
      ['executing', done.executionId],
      ['idle', undefined],
    ]);
  });

  it('hands the caller and every listener one frozen result, and each module.synced listener a frozen outcome', async () => {
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
    });
    const results: unknown[] = [];
    const outcomes: { changes: Record<string, unknown> }[] = [];
    qa.on('module.result', (event) => results.push(event.result));
    qa.on('module.synced', (event) => outcomes.push(event.outcome));
    await session.setVariable('llm_temperature', 0.9);
    const result = await qa.execute({ question: 'q' });
    expect(results).toEqual([result]);
    expect(results[0]).toBe(result);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.output)).toBe(true);
    expect(() => ((result.output as Record<string, unknown>).answer = 'changed')).toThrow(TypeError);
    expect(outcomes).toEqual([{ moduleType: 'Predict', changes: { temperature: [0.3, 0.9] } }]);
    const [outcome] = outcomes;
    expect(Object.isFrozen(outcome)).toBe(true);
    expect(Object.isFrozen(outcome?.changes)).toBe(true);
    expect(Object.isFrozen(outcome?.changes.temperature)).toBe(true);
  });

  it('lists its modules by id in code-unit order, capitals first, as a remote client lists them', async () => {
    const spec = { type: 'Predict', signature: 'question:string -> answer:string' };
    for (const id of ['qb', 'qa', 'Qa', 'Z']) await session.module(id, spec);
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['Qa', 'Z', 'qa', 'qb']);
  });

  it('completes 10 executions sent at once, in order, each with its own result', async () => {
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const started: string[] = [];
    qa.on('module.synced', (event) => started.push(event.executionId));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => qa.execute({ question: `q${i}` })));
    results.forEach((result, i) => expect(result.output.answer).toContain(`q${i}`));
    expect(started).toEqual(results.map((result) => result.executionId));
    expect(await qa.describe()).toMatchObject({
      signature: 'question:string -> answer:string',
      state: 'idle',
      queued: 0,
      completed: 10,
      failed: 0,
    });
  });

  it('keeps its id, bindings and callbacks across a type swap', async () => {
    const seen: [string, unknown, unknown][] = [];
    const qa = await session.module('qa', {
      typeVariable: 'reasoning_module',
      signature: 'question:string -> answer:string',
      bindings: {
        temperature: {
          variable: 'llm_temperature',
          onChange: (attribute, oldValue, newValue) => void seen.push([attribute, oldValue, newValue]),
        },
      },
    });
    await session.setVariable('reasoning_module', 'predict');
    await session.setVariable('llm_temperature', 1.2);
    const syncs: unknown[] = [];
    qa.on('module.synced', (event) => syncs.push(event.outcome));
    const result = await qa.execute({ question: 'x' });
    expect(syncs).toEqual([
      { moduleType: 'Predict', swappedFrom: 'ChainOfThought', changes: { temperature: [0.3, 1.2] } },
    ]);
    expect(result).toMatchObject({ moduleId: 'qa', moduleType: 'Predict' });
    expect(result.output.answer).toContain('temperature=1.2');
    expect(seen).toEqual([['temperature', 0.3, 1.2]]);
  });

  it("tells the runtime's onError of an onChange callback that throws, and runs on the new value", async () => {
    const told: [string, string][] = [];
    const reporting = await Runtime.start({ onError: (error, where) => told.push([String(error), where]) });
    try {
      const s = await reporting.session('m2');
      await s.defineVariable('t', 'float', 0.5);
      await s.defineVariable('kind', 'module', 'Predict');
      const qa = await s.module('qa', {
        typeVariable: 'kind',
        signature: 'question:string -> answer:string',
        bindings: {
          temperature: {
            variable: 't',
            onChange: () => {
              throw new Error('callback broke');
            },
          },
        },
      });
      await s.setVariable('t', 1.5);
      const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const result = await qa.execute({ question: 'x' }).finally(() => warning.mockRestore());
      expect(result.output.answer).toContain('temperature=1.5');
      expect(result.syncFailed).toBeUndefined();
      expect(told).toEqual([
        ['Error: callback broke', 'module qa in session m2: the onChange callback of temperature'],
      ]);
      // Told once: not again as a process warning, which a module of the user's own (no runtime) gets instead.
      expect(warning).not.toHaveBeenCalled();
      // The program a type swap builds tells the runtime too.
      await s.setVariable('kind', 'ChainOfThought');
      expect((await qa.execute({ question: 'x' })).moduleType).toBe('ChainOfThought');
      await s.setVariable('t', 0.9);
      const swapped = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      await qa.execute({ question: 'x' }).finally(() => swapped.mockRestore());
      expect(told).toHaveLength(2);
      expect(swapped).not.toHaveBeenCalled();
    } finally {
      await reporting.stop();
    }
  });

  it('reports a failed sync and still executes with the last good values', async () => {
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
    });
    const failures: string[] = [];
    qa.on('module.syncFailed', (event) => failures.push(event.error.code));
    const fine = await qa.execute({ question: 'fine' });
    // Nothing refused: the result has no such field at all.
    expect(fine).not.toHaveProperty('syncFailed');
    await session.deleteVariable('llm_temperature');
    const result = await qa.execute({ question: 'still' });
    expect(failures).toEqual(['variable_not_found']);
    expect(result.output.answer).toContain('temperature=0.3');
    // The caller sees it in the result too, not only in the event.
    expect(result.syncFailed).toMatchObject({
      code: 'variable_not_found',
      message: expect.stringContaining('llm_temperature'),
      // The attribute it fed, as for a refused value.
      details: { variable: 'llm_temperature', field: 'temperature' },
    });
    expect(result.provenance).toEqual(fine.provenance);
  });

  it('says in the result which sync was refused, a bad value or a module type not registered, and only for that execution', async () => {
    await session.defineVariable('knob', 'json', 0.5);
    await session.defineVariable('kind', 'module', 'Predict');
    const qa = await session.module('qa', {
      typeVariable: 'kind',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'knob' },
    });
    await session.setVariable('knob', 'hot');
    const hot = await qa.execute({ question: 'one' });
    expect(hot.syncFailed).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('temperature'),
    });
    expect(hot.output.answer).toContain('temperature=0.5');
    await session.setVariable('knob', 0.7);
    await session.setVariable('kind', 'Nope');
    const nope = await qa.execute({ question: 'two' });
    expect(nope.syncFailed).toMatchObject({ code: 'unknown_module', message: expect.stringContaining('Nope') });
    expect(nope.moduleType).toBe('Predict');
    await session.setVariable('kind', 'ChainOfThought');
    const good = await qa.execute({ question: 'three' });
    expect(good).not.toHaveProperty('syncFailed');
    expect(good).toMatchObject({ moduleType: 'ChainOfThought' });
    expect(good.output.answer).toContain('temperature=0.7');
  });

  it('follows a bound variable deleted and defined again, whose versions start over', async () => {
    await session.setVariable('llm_temperature', 0.5);
    await session.setVariable('llm_temperature', 0.6);
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
    });
    expect((await qa.execute({ question: 'q' })).provenance).toEqual({ llm_temperature: 3 });
    await session.deleteVariable('llm_temperature');
    await session.defineVariable('llm_temperature', 'float', 0.1);
    const again = await qa.execute({ question: 'q' });
    expect(again.output.answer).toContain('temperature=0.1');
    expect(again.provenance).toEqual({ llm_temperature: 1 });
  });

  it('names a variable called __proto__ in its provenance', async () => {
    await session.defineVariable('__proto__', 'float', 0.4);
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { topP: '__proto__' },
    });
    const { provenance } = await qa.execute({ question: 'q' });
    expect(Object.keys(provenance)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(provenance, '__proto__')?.value).toBe(1);
  });

  it('refuses a taken id, a bad spec, an unknown type and ReAct without tools, and finds running modules', async () => {
    const spec = { type: 'Predict', signature: 'question:string -> answer:string' };
    const qa = await session.module('qa', spec);
    await expect(session.module('qa', spec)).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(session.module('bad id', spec)).rejects.toBeInstanceOf(ValidationError);
    await expect(session.module('x', { ...spec, temprature: 1 } as never)).rejects.toMatchObject({
      message: expect.stringContaining('temprature'),
    });
    await expect(session.module('x', { type: 'Telepathy', signature: spec.signature })).rejects.toBeInstanceOf(
      UnknownModuleError,
    );
    await expect(session.module('x', { type: 'ReAct', signature: spec.signature })).rejects.toThrow(/tool/i);
    await expect(session.module('x', { ...spec, bindings: { temperature: 'missing_var' } })).rejects.toMatchObject({
      code: 'variable_not_found',
    });
    // An id of 1-128 letters, digits, '_' or '-': the longest is taken, one character more is refused.
    await expect(session.module('x'.repeat(129), spec)).rejects.toMatchObject({
      code: 'validation_failed',
      details: { constraint: 'moduleId' },
    });
    await (await session.module('x'.repeat(128), spec)).stop();
    for (const signature of ['', '   ']) {
      await expect(session.module('x', { ...spec, signature })).rejects.toMatchObject({
        code: 'validation_failed',
        message: 'a module spec needs a signature string',
        details: { field: 'signature' },
      });
    }
    await expect(session.module('ghost')).rejects.toBeInstanceOf(ModuleNotFoundError);
    await expect(session.module('bad id')).rejects.toBeInstanceOf(ValidationError);
    expect(await session.module('qa')).toBe(qa);
    expect((await session.modules()).map((m) => m.moduleId)).toEqual(['qa']);
  });

  it('refuses a spec with a number out of its range, naming field, value and range, and creates nothing', async () => {
    const signature = 'question:string -> answer:string';
    const cases: [Record<string, unknown>, string, number][] = [
      [{ type: 'MultiChainComparison', samples: 1_000_000_000 }, 'samples', 1_000_000_000],
      [{ type: 'MultiChainComparison', samples: -3 }, 'samples', -3],
      [{ type: 'Predict', maxSteps: 1_000_000 }, 'maxSteps', 1_000_000],
      [{ type: 'Predict', maxRetries: 1000 }, 'maxRetries', 1000],
      [{ type: 'Predict', temperature: 3 }, 'temperature', 3],
      [{ type: 'Predict', maxTokens: 0.5 }, 'maxTokens', 0.5],
      // BestOfN and Refine also need a reward; the count is refused first, whatever else is missing.
      [{ type: 'BestOfN', n: 100 }, 'n', 100],
      [{ type: 'Refine', rounds: 0 }, 'rounds', 0],
    ];
    for (const [fields, field, value] of cases) {
      const error = await session.module('x', { signature, ...fields } as never).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message, field).toMatch(
        new RegExp(`^module setting '${field}' must be an? (integer|number) from -?\\d+ to \\d+, got ${value}$`),
      );
      expect((error as ValidationError).details, field).toMatchObject({ field, value });
    }
    expect(await session.modules()).toEqual([]);
    const mcc = await session.module('x', { type: 'MultiChainComparison', signature, samples: 32 });
    expect((await mcc.execute({ question: 'fine' })).output.answer).toContain('fine');
  });

  it('refuses inputs its signature does not take before queueing them, and executes the next good ones', async () => {
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const failed: unknown[] = [];
    qa.on('module.failed', (event) => failed.push(event));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /^input field 'question' \(a string\) is required and was not given$/],
      [{ question: 5 }, /^input field 'question' must be a string, got a number \(5\)$/],
      [{ question: 'q', extra: 1 }, /^unknown input field 'extra'; this program takes: question \(a string\)$/],
    ];
    for (const [inputs, message] of cases) {
      const error = await qa.execute(inputs).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(message);
    }
    for (const inputs of [[], ['why?'], null, 'why?']) {
      await expect(qa.execute(inputs as never)).rejects.toMatchObject({
        code: 'validation_failed',
        message: "execute() of module 'qa' takes an object of input fields",
      });
    }
    // A caller's mistake: not a failed execution of the module, and no provider was asked.
    expect(await qa.describe()).toMatchObject({ state: 'idle', queued: 0, completed: 0, failed: 0 });
    expect(failed).toEqual([]);
    expect((await qa.execute({ question: 'good' })).output.answer).toContain('good');
  });

  it('refuses a listener of an event type no module announces, naming those there are', async () => {
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    expect(() => qa.on('module.finished' as never, () => {})).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        message: expect.stringContaining(
          'module.result, module.failed, module.delta, module.synced, module.syncFailed',
        ),
      }),
    );
    expect(() => qa.on('module.state' as never, () => {})).toThrow(/state changes are heard with onState/);
  });

  it('stops its modules when the session stops', async () => {
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    await session.stop();
    await waitFor(() => !qa.alive);
    await expect(qa.execute({ question: 'late' })).rejects.toMatchObject({ code: 'session_stopped' });
  });
});
