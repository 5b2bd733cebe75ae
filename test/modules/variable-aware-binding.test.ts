import { describe, expect, it } from 'vitest';
import { ValidationError, VariableNotFoundError } from '../../src/errors.js';
import { VariableAwarePredict, createEchoModel } from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';
import { SIGNATURE, setup } from '../support/variable-aware-predict.js';

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
    // The wiring too: its session, its LLM and its type are no setting a variable may hold.
    for (const attribute of ['session', 'llm', 'moduleType']) {
      await expect(module.bindToVariable(attribute, 'llm_temperature')).rejects.toMatchObject({
        code: 'validation_failed',
        message: `'${attribute}' cannot be bound`,
      });
    }
    expect(module.getBindings()).toEqual({});
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
});
