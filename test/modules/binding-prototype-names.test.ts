/**
 * Bindings (and type variables) that name a variable called like a member of `Object.prototype`: `constructor`,
 * `toString`, `valueOf`, `__proto__`. Such names are valid variable names (the session defines, reads, lists and
 * deletes them as any other), so a module bound to one treats it as any other variable: missing at creation is
 * `variable_not_found`, deleted later is a refused sync (`syncFailed`, the last good values kept). Found in review:
 * the read's inherited members counted as found, and a temperature bound to a deleted `constructor` was silently
 * dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, VariableNotFoundError, createEchoModel } from '../../src/index.js';

const PROTO_NAMES = ['constructor', 'toString', 'valueOf', '__proto__'] as const;
const signature = 'question:string -> answer:string';

describe('bindings to variables named like Object.prototype members', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('refuses a module bound to a missing variable named constructor/toString/valueOf/__proto__ with variable_not_found, as for any other name', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    // Control: an ordinary missing name is refused.
    await expect(
      session.module('plain', { type: 'Predict', signature, bindings: { temperature: 'nothere' } }),
    ).rejects.toMatchObject({
      code: 'variable_not_found',
      details: { variable: 'nothere', field: 'temperature' },
    });
    for (const [i, name] of PROTO_NAMES.entries()) {
      expect(await session.hasVariable(name)).toBe(false);
      const created = session.module(`m${i}`, { type: 'Predict', signature, bindings: { temperature: name } });
      await expect(created, name).rejects.toBeInstanceOf(VariableNotFoundError);
      await expect(created, name).rejects.toMatchObject({ details: { variable: name, field: 'temperature' } });
    }
    // Nothing was created.
    expect((await session.modules()).length).toBe(0);
  });

  it('refuses a typeVariable naming a missing variable called constructor with variable_not_found', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    for (const [i, name] of PROTO_NAMES.entries()) {
      await expect(session.module(`t${i}`, { typeVariable: name, signature }), name).rejects.toMatchObject({
        code: 'variable_not_found',
        details: { variable: name, field: 'typeVariable' },
      });
    }
  });

  it('keeps the last good temperature and reports syncFailed when a bound variable named constructor is deleted', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    for (const name of ['temp', 'constructor']) {
      await session.defineVariable(name, 'float', 0.3);
      const qa = await session.module(`qa_${name}`, { type: 'Predict', signature, bindings: { temperature: name } });
      const first = await qa.execute({ question: 'q' });
      expect(first.output.answer, name).toContain('temperature=0.3');
      expect(first.provenance, name).toEqual({ [name]: 1 });

      await session.deleteVariable(name);
      const second = await qa.execute({ question: 'q' });
      // As for any bound variable that is gone: the sync is refused and the execution runs on the last good values.
      expect(second.syncFailed, name).toMatchObject({ code: 'variable_not_found', details: { variable: name } });
      expect(second.output.answer, name).toContain('temperature=0.3');
      expect(second.provenance, name).toEqual({ [name]: 1 });
    }
  });
});
