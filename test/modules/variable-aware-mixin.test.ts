import { describe, expect, it, vi } from 'vitest';
import { SessionError, ValidationError, VariableNotFoundError } from '../../src/errors.js';
import {
  Predict,
  VariableAwareMixin,
  VariableAwarePredict,
  createEchoModel,
  type SyncErrorHandler,
} from '../../src/modules/index.js';
import type { SessionContext } from '../../src/session/session-context.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { FakeSession } from '../support/fake-session.js';

const SIGNATURE = 'question:string -> answer:string';

function setup(onSyncError?: SyncErrorHandler) {
  const session = new FakeSession('mixin-session', { llm_temperature: 0.7, max_tokens: 256, llm_model: 'gpt-4o-mini' });
  const module = new VariableAwarePredict(SIGNATURE, {
    session,
    llm: createEchoModel(),
    ...(onSyncError ? { onSyncError } : {}),
  });
  return { session, module };
}

describe('VariableAwareMixin', () => {
  it('initializes with the session and no bindings', () => {
    const { session, module } = setup();
    expect(module.session).toBe(session);
    expect(module.getBindings()).toEqual({});
    expect(module.getLastSyncedValues()).toEqual({});
    expect(module.moduleType).toBe('Predict');
    expect(module.signature).toBe(SIGNATURE);
  });

  it('binding sets the attribute, the binding and the last-synced value', async () => {
    const { module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    expect(module.temperature).toBe(0.7);
    expect(module.getBoundVariable('temperature')).toBe('llm_temperature');
    expect(module.getBindings()).toEqual({ temperature: 'llm_temperature' });
    expect(module.getLastSyncedValues()).toEqual({ temperature: 0.7 });
  });

  it('binding a missing variable fails with "not found"', async () => {
    const { module } = setup();
    const failure = module.bindToVariable('temperature', 'no_such_variable');
    await expect(failure).rejects.toBeInstanceOf(VariableNotFoundError);
    await expect(module.bindToVariable('temperature', 'no_such_variable')).rejects.toThrow(/not found/);
    expect(module.getBindings()).toEqual({});
  });

  it('binding a missing variable named like an Object member fails as any other (found in review)', async () => {
    const { module } = setup();
    for (const name of ['constructor', 'toString', '__proto__'])
      await expect(module.bindToVariable('temperature', name), name).rejects.toBeInstanceOf(VariableNotFoundError);
    expect(module.getBindings()).toEqual({});
  });

  it('syncVariables after two changes returns exactly the two changes', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    await module.bindToVariable('maxTokens', 'max_tokens');
    await module.bindToVariable('model', 'llm_model');
    await session.setVariable('llm_temperature', 0.9);
    await session.setVariable('max_tokens', 512);
    expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.9], maxTokens: [256, 512] });
    expect(module.temperature).toBe(0.9);
    expect(module.maxTokens).toBe(512);
    expect(await module.syncVariables()).toEqual({});
  });

  it('calls a sync callback once per change with (attribute, old, new)', async () => {
    const { session, module } = setup();
    const callback = vi.fn();
    await module.bindToVariable('temperature', 'llm_temperature', callback);
    await module.syncVariables();
    expect(callback).not.toHaveBeenCalled();
    await session.setVariable('llm_temperature', 0.9);
    await module.syncVariables();
    await module.syncVariables();
    await session.setVariable('llm_temperature', 0.3);
    await module.syncVariables();
    expect(callback.mock.calls).toEqual([
      ['temperature', 0.7, 0.9],
      ['temperature', 0.9, 0.3],
    ]);
  });

  it('unbinding removes the binding and the last value', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    expect(module.unbindVariable('temperature')).toBe(true);
    expect(module.getBoundVariable('temperature')).toBeUndefined();
    expect(module.getLastSyncedValues()).toEqual({});
    await session.setVariable('llm_temperature', 0.1);
    expect(await module.syncVariables()).toEqual({});
    expect(module.temperature).toBe(0.7);
    expect(module.unbindVariable('temperature')).toBe(false);
  });

  it('forward syncs first and sends the new value', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    await session.setVariable('llm_temperature', 0.9);
    const result = await module.forward({ question: 'why?' });
    expect(module.temperature).toBe(0.9);
    expect(result.output.answer).toContain('temperature=0.9');
    expect(result.provenance).toEqual({ llm_temperature: 2 });
  });

  it('hands out a frozen provenance, which follows every change of version', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    const first = (await module.forward({ question: 'a' })).provenance;
    expect(Object.isFrozen(first)).toBe(true);
    expect((await module.forward({ question: 'b' })).provenance).toEqual({ llm_temperature: 1 });
    await session.setVariable('llm_temperature', 0.9);
    expect((await module.forward({ question: 'c' })).provenance).toEqual({ llm_temperature: 2 });
    await module.bindToVariable('maxTokens', 'max_tokens');
    expect((await module.forward({ question: 'd' })).provenance).toEqual({ llm_temperature: 2, max_tokens: 1 });
    module.unbindVariable('temperature');
    expect((await module.forward({ question: 'e' })).provenance).toEqual({ max_tokens: 1 });
    expect(first).toEqual({ llm_temperature: 1 });
  });

  it('forward with autoSync: false keeps the current values', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    await session.setVariable('llm_temperature', 0.9);
    const result = await module.forward({ question: 'why?' }, { autoSync: false });
    expect(result.output.answer).toContain('temperature=0.7');
    expect(result.provenance).toEqual({ llm_temperature: 1 });
  });

  it('reports an error while syncing and still runs forward with the last good values', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    await module.bindToVariable('temperature', 'llm_temperature');
    await module.bindToVariable('maxTokens', 'max_tokens');
    await session.setVariable('llm_temperature', 0.9);
    session.failReadsWith = new Error('store unreachable');
    const result = await module.forward({ question: 'why?' });
    expect(errors.map((e) => e.message)).toEqual(['store unreachable']);
    expect(result.output.answer).toContain('temperature=0.7');
    expect(result.provenance).toEqual({ llm_temperature: 1, max_tokens: 1 });
  });

  it('applies nothing when one value of the snapshot is invalid, and reports it', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    await module.bindToVariable('temperature', 'llm_temperature');
    await module.bindToVariable('maxTokens', 'max_tokens');
    await session.setVariable('llm_temperature', 0.2);
    await session.setVariable('max_tokens', 'lots');
    await module.forward({ question: 'why?' });
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect(module.temperature).toBe(0.7);
    await expect(module.syncVariables()).rejects.toThrow(/maxTokens/);
  });

  it('checks a variable that came back at the version it had, with another value', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    await module.bindToVariable('temperature', 'llm_temperature');
    // Deleted and defined again: a new variable whose first version is the version the module last synced.
    session.values.set('llm_temperature', { value: 'hot', version: 1 });
    const result = await module.forward({ question: 'why?' });
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect(result.output.answer).toContain('temperature=0.7');
    session.values.set('llm_temperature', { value: 0.4, version: 1 });
    expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.4] });
  });

  it('waits for a session that answers with a thenable rather than a native promise, and reports its failure', async () => {
    const values: Record<string, { value: unknown; version: number }> = { t: { value: 0.5, version: 1 } };
    let failWith: Error | undefined;
    const thenable = <T>(produce: () => T) => ({
      then: (resolve: (value: T) => void, reject: (error: unknown) => void) =>
        setTimeout(() => (failWith ? reject(failWith) : resolve(produce())), 1),
    });
    const session = {
      sessionId: 'realm',
      getVariable: async (name: string) => values[name]?.value,
      setVariable: async () => undefined,
      watchVariables: async () => () => {},
      readVariables: (names: readonly string[]) =>
        thenable(() => ({ found: Object.fromEntries(names.map((n) => [n, values[n]!])), missing: [] })),
    } as unknown as SessionContext;
    const errors: Error[] = [];
    const module = new VariableAwarePredict(SIGNATURE, {
      session,
      llm: createEchoModel(),
      onSyncError: (e) => errors.push(e),
    });
    await module.bindToVariable('temperature', 't');
    values.t = { value: 0.9, version: 2 };
    const result = await module.forward({ question: 'why?' });
    expect(result.output.answer).toContain('temperature=0.9');
    expect(result.provenance).toEqual({ t: 2 });
    failWith = new Error('read failed');
    await module.forward({ question: 'why?' });
    expect(errors.map((e) => e.message)).toEqual(['read failed']);
  });

  it('reports a deleted variable as not found and keeps the last value', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    await module.bindToVariable('temperature', 'llm_temperature');
    session.deleteVariable('llm_temperature');
    const result = await module.forward({ question: 'why?' });
    expect(errors[0]).toBeInstanceOf(VariableNotFoundError);
    expect(result.output.answer).toContain('temperature=0.7');
  });

  it('emits a process warning when no handler is set', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    session.failReadsWith = new Error('boom');
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      await module.forward({ question: 'why?' });
      expect(warning).toHaveBeenCalledTimes(1);
      expect(String(warning.mock.calls[0]?.[0])).toContain('boom');
    } finally {
      warning.mockRestore();
    }
  });

  it('reports a throwing sync callback without undoing the sync', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    await module.bindToVariable('temperature', 'llm_temperature', () => {
      throw new Error('callback broke');
    });
    await session.setVariable('llm_temperature', 0.9);
    expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.9] });
    expect(errors.map((e) => e.message)).toEqual(["the callback of 'temperature' failed: callback broke"]);
    expect((errors[0]?.cause as Error).message).toBe('callback broke');
  });

  it('warns that a throwing sync callback came after its value was applied, when no handler is set', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature', () => {
      throw new Error('callback broke');
    });
    await session.setVariable('llm_temperature', 0.9);
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.9] });
      expect(warning).toHaveBeenCalledTimes(1);
      // Not "kept its last values", which a refused sync says: the module runs on the new value.
      expect(warning.mock.calls[0]).toEqual([
        "Predict in session 'mixin-session' applied its new values, but the callback of 'temperature' failed: callback broke",
        { type: 'TetherSyncWarning', code: 'callback_failed' },
      ]);
    } finally {
      warning.mockRestore();
    }
  });

  it('sets an attribute its class declares, and refuses one the module does not have, naming what it binds', async () => {
    const session = new FakeSession('styled', { style: 'terse', llm_temperature: 0.7 });
    class Styled extends VariableAwarePredict {
      answerStyle = 'plain';
    }
    const module = new Styled(SIGNATURE, { session, llm: createEchoModel() });
    await module.bindToVariable('answerStyle', 'style');
    expect(module.answerStyle).toBe('terse');
    // A misspelt parameter would be set on the instance and read by nothing.
    const error = await module.bindToVariable('temprature', 'llm_temperature').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/no attribute 'temprature'.*temperature, maxTokens/);
    await expect(module.bindToVariable('temperature', 'llm_temperature', 5 as never)).rejects.toThrow(
      /sync callback of 'temperature' must be a function/,
    );
    expect(module.getBindings()).toEqual({ answerStyle: 'style' });
  });

  it('refuses to bind over a method or the module identity', async () => {
    const { module } = setup();
    await expect(module.bindToVariable('forward', 'llm_temperature')).rejects.toBeInstanceOf(ValidationError);
    await expect(module.bindToVariable('signature', 'llm_temperature')).rejects.toBeInstanceOf(ValidationError);
  });

  it('names the refused attribute in details.field, never as a variable', async () => {
    const { module } = setup();
    const refusals: [() => Promise<unknown>, string][] = [
      [() => module.bindToVariable('signature', 'llm_temperature'), 'signature'],
      [() => module.bindToVariable('forward', 'llm_temperature'), 'forward'],
      [() => module.bindToVariable('temprature', 'llm_temperature'), 'temprature'],
      [() => module.bindToVariable('temperature', 'llm_temperature', 5 as never), 'temperature'],
    ];
    for (const [bind, attribute] of refusals) {
      const error = (await bind().catch((e: unknown) => e)) as ValidationError;
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.details).toMatchObject({ field: attribute });
      expect(error.details).not.toHaveProperty('variable');
      expect(error.variable).toBeUndefined();
    }
    expect(module.getBindings()).toEqual({});
  });

  it('refuses a value of the wrong type for an LLM parameter at bind time', async () => {
    const { module } = setup();
    await expect(module.bindToVariable('temperature', 'llm_model')).rejects.toThrow(
      /'temperature' must be a number from 0 to 2, got "/,
    );
  });

  it('refuses a bound parameter out of its range at bind time, and keeps its last good value at a sync', async () => {
    const errors: Error[] = [];
    const { session, module } = setup((error) => errors.push(error));
    session.values.set('big_steps', { value: 1_000_000, version: 1 });
    await expect(module.bindToVariable('maxSteps', 'big_steps')).rejects.toThrow(
      "module setting 'maxSteps' must be an integer from 1 to 100, got 1000000",
    );
    expect(module.getBindings()).toEqual({});
    await module.bindToVariable('temperature', 'llm_temperature');
    await session.setVariable('llm_temperature', 7);
    const result = await module.forward({ question: 'why?' });
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect(errors[0]?.message).toMatch(/'temperature' must be a number from 0 to 2, got 7/);
    expect(result.output.answer).toContain('temperature=0.7');
  });

  it('holds the session weakly: without a session a sync says so', async () => {
    const module = new VariableAwarePredict(SIGNATURE, { llm: createEchoModel() });
    await expect(module.bindToVariable('temperature', 'x')).rejects.toThrow(/no session/);
    const session = new FakeSession('late', { x: 0.5 });
    module.attachSession(session);
    await module.bindToVariable('temperature', 'x');
    expect(module.temperature).toBe(0.5);
  });

  // Found by a review: this test returned at once without --expose-gc, which vitest's workers never have.
  it('reports session_stopped once the session was garbage-collected', async () => {
    const module = new VariableAwarePredict(SIGNATURE, { llm: createEchoModel() });
    await (async () => {
      const session = new FakeSession('gone', { x: 0.5 });
      module.attachSession(session);
      await module.bindToVariable('temperature', 'x');
    })();
    // A WeakRef's target lives at least to the end of the job that last read it: collected again in a later one.
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 10));
    collectGarbage();
    const error = await module.syncVariables().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_stopped', sessionId: 'gone' });
  });

  it('makes any module class variable-aware', async () => {
    class Summarize extends Predict {
      static override readonly moduleType: string = 'Summarize';
    }
    const VariableAwareSummarize = VariableAwareMixin(Summarize);
    const session = new FakeSession('s', { llm_temperature: 0.4 });
    const module = new VariableAwareSummarize('document:string -> summary:string', { session, llm: createEchoModel() });
    await module.bindToVariable('temperature', 'llm_temperature');
    const result = await module.forward({ document: 'a long text' });
    expect(module.moduleType).toBe('Summarize');
    expect(result.output.summary).toContain('temperature=0.4');
  });

  it('runs concurrent forwards on one module with their own values', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    const results = await Promise.all(['one', 'two', 'three', 'four'].map((question) => module.forward({ question })));
    expect(results.map((r) => String(r.output.answer).split(' |')[0])).toEqual([
      '[tether-echo] Question: one',
      '[tether-echo] Question: two',
      '[tether-echo] Question: three',
      '[tether-echo] Question: four',
    ]);
    expect(session.reads).toBe(5);
  });

  it('trusts a session whose variables stamp has not moved: no read, no changes; a new stamp, binding or failure reads again', async () => {
    /** A session answering reads at once, with a stamp the test moves by hand. */
    class StampedSession extends FakeSession {
      stamp = 1;
      readsNow = 0;
      variablesStamp(): number {
        return this.stamp;
      }
      readVariablesNow(names: readonly string[]) {
        this.readsNow++;
        const found: Record<string, { value: unknown; version: number }> = {};
        const missing = names.filter((name) => !this.values.has(name));
        for (const name of names) if (this.values.has(name)) found[name] = this.values.get(name)!;
        return { found, missing };
      }
    }
    const session = new StampedSession('stamped', { llm_temperature: 0.7, max_tokens: 256 });
    const module = new VariableAwarePredict(SIGNATURE, { session, llm: createEchoModel() });
    await module.bindToVariable('temperature', 'llm_temperature');

    expect(await module.syncVariables()).toEqual({});
    expect(await module.syncVariables()).toEqual({});
    expect(session.readsNow).toBe(1);

    session.values.set('llm_temperature', { value: 0.9, version: 2 });
    session.stamp = 2;
    expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.9] });
    expect(session.readsNow).toBe(2);

    // A new binding is read whatever the stamp says.
    await module.bindToVariable('maxTokens', 'max_tokens');
    session.values.set('max_tokens', { value: 512, version: 2 });
    expect(await module.syncVariables()).toEqual({ maxTokens: [256, 512] });
    expect(session.readsNow).toBe(3);

    // A failed sync is not remembered as done: it fails again at the same stamp.
    session.values.delete('max_tokens');
    session.stamp = 3;
    await expect(module.syncVariables()).rejects.toBeInstanceOf(VariableNotFoundError);
    await expect(module.syncVariables()).rejects.toBeInstanceOf(VariableNotFoundError);
    expect(session.readsNow).toBe(5);
  });
});
