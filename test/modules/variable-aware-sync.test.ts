import { describe, expect, it, vi } from 'vitest';
import { SessionError, ValidationError, VariableNotFoundError } from '../../src/errors.js';
import { VariableAwarePredict, createEchoModel } from '../../src/modules/index.js';
import type { SessionContext } from '../../src/session/session-context.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { FakeSession } from '../support/fake-session.js';
import { SIGNATURE, setup } from '../support/variable-aware-predict.js';

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

describe('VariableAwareMixin', () => {
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

  it('keeps the newer value when a slower sync, which read an older version, answers after a faster one', async () => {
    const { session, module } = setup();
    await module.bindToVariable('temperature', 'llm_temperature');
    // Each read answers when the test says: the first (version 2) is held back until the second (version 3) is applied.
    const held: Array<() => void> = [];
    const read = session.readVariables.bind(session);
    session.readVariables = async (names) => {
      const snapshot = await read(names);
      await new Promise<void>((resolve) => held.push(resolve));
      return snapshot;
    };
    await session.setVariable('llm_temperature', 0.9);
    const slow = module.syncVariables();
    await vi.waitFor(() => expect(held).toHaveLength(1));
    await session.setVariable('llm_temperature', 0.3);
    const fast = module.syncVariables();
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]!();
    expect(await fast).toEqual({ temperature: [0.7, 0.3] });
    held[0]!();
    expect(await slow).toEqual({});
    expect(module.temperature).toBe(0.3);
    const result = await module.forward({ question: 'why?' }, { autoSync: false });
    expect(result.output.answer).toContain('temperature=0.3');
    expect(result.provenance).toEqual({ llm_temperature: 3 });
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

  it('warns of an onSyncError handler and an onSyncFailed listener that throw, and still runs', async () => {
    const { session, module } = setup(() => {
      throw new Error('handler broke');
    });
    await module.bindToVariable('temperature', 'llm_temperature');
    session.failReadsWith = new Error('store unreachable');
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const onSyncFailed = () => {
        throw new Error('listener broke');
      };
      const result = await module.forward({ question: 'why?' }, { onSyncFailed });
      expect(result.output.answer).toContain('temperature=0.7');
      // The failed sync is still warned of, after the handler that was to hear of it.
      expect(warning.mock.calls.map(([message]) => String(message))).toEqual([
        'onSyncError handler threw: Error: handler broke',
        "Predict in session 'mixin-session' kept its last values: store unreachable",
        'onSyncFailed listener threw: Error: listener broke',
      ]);
    } finally {
      warning.mockRestore();
    }
  });

  it('reports no change and calls no callback for a write of the value the attribute holds', async () => {
    const { session, module } = setup();
    await session.setVariable('stops', ['END']);
    const callback = vi.fn();
    await module.bindToVariable('temperature', 'llm_temperature', callback);
    await module.bindToVariable('stopSequences', 'stops', callback);
    // New versions of equal values: a number, and a list that is another object.
    await session.setVariable('llm_temperature', 0.7);
    await session.setVariable('stops', ['END']);
    expect(await module.syncVariables()).toEqual({});
    expect(callback).not.toHaveBeenCalled();
    // The values are those of the new versions all the same.
    expect((await module.forward({ question: 'q' })).provenance).toEqual({ llm_temperature: 2, stops: 2 });
    await session.setVariable('stops', ['STOP']);
    expect(await module.syncVariables()).toEqual({ stopSequences: [['END'], ['STOP']] });
    expect(callback.mock.calls).toEqual([['stopSequences', ['END'], ['STOP']]]);
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

  it('trusts a session whose variables stamp has not moved: no read, no changes; a new stamp, binding or failure reads again', async () => {
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

  it('reads the variables of a session attached later, though its stamp equals the last session’s', async () => {
    // Stamps are each session's own counter: two sessions at the same stamp may hold different values.
    const first = new StampedSession('first', { llm_temperature: 0.7 });
    const module = new VariableAwarePredict(SIGNATURE, { session: first, llm: createEchoModel() });
    await module.bindToVariable('temperature', 'llm_temperature');
    expect(await module.syncVariables()).toEqual({});
    const second = new StampedSession('second', { llm_temperature: 0.2 });
    module.attachSession(second);
    expect(await module.syncVariables()).toEqual({ temperature: [0.7, 0.2] });
    expect(second.readsNow).toBe(1);
  });

  it('holds the session weakly: without a session a sync says so', async () => {
    const module = new VariableAwarePredict(SIGNATURE, { llm: createEchoModel() });
    const alone = await module.bindToVariable('temperature', 'x').catch((e: unknown) => e);
    expect(alone).toBeInstanceOf(ValidationError);
    expect(alone).toMatchObject({
      code: 'validation_failed',
      message: 'module has no session; pass options.session or call attachSession()',
    });
    expect(module.getBindings()).toEqual({});
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
});
