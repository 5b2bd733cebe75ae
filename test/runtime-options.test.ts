import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../src/index.js';

describe('runtime options', () => {
  it('refuses a bag that is no object, as connect refuses its own, before anything starts', async () => {
    for (const options of [null, 'embedded', []]) {
      const error = await Runtime.start(options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message: 'Runtime.start options must be an object' });
    }
  });

  it('refuses a timing a timer cannot keep, naming it, as connect refuses its timeoutMs', async () => {
    for (const [field, value] of [
      ['sessionTtlMs', 0],
      ['sessionTtlMs', -1],
      ['hibernateAfterMs', 1.5],
      ['callTimeoutMs', 0],
      ['callTimeoutMs', '5000'],
      ['executionTimeoutMs', 2 ** 31],
      ['sessionTtlMs', Number.POSITIVE_INFINITY],
      ['hibernateAfterMs', Number.POSITIVE_INFINITY],
    ] as const) {
      const error = await Runtime.start({ [field]: value }).catch((e: unknown) => e);
      expect(error, `${field} ${value}`).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: 'validation_failed',
        message:
          `${field} must be a whole number of milliseconds from 1 to 2147483647` +
          `${field.endsWith('TimeoutMs') ? ', or Infinity' : ''}, got ${typeof value === 'string' ? `"${value}"` : value}`,
        details: { field },
      });
    }
  });

  it('starts with timings a timer keeps', async () => {
    const runtime = await Runtime.start({ sessionTtlMs: 1, hibernateAfterMs: 2 ** 31 - 1, callTimeoutMs: 5000 });
    await runtime.stop();
  });

  it('takes Infinity for the waits, which may last for ever, and names it among what a wait takes', async () => {
    const runtime = await Runtime.start({ callTimeoutMs: Infinity, executionTimeoutMs: Infinity });
    const session = await runtime.session('s');
    await session.defineVariable('t', 'float', 0.5);
    await expect(session.getVariable('t')).resolves.toBe(0.5);
    await runtime.stop();
    for (const field of ['callTimeoutMs', 'executionTimeoutMs']) {
      await expect(Runtime.start({ [field]: -Infinity })).rejects.toMatchObject({
        code: 'validation_failed',
        message: `${field} must be a whole number of milliseconds from 1 to 2147483647, or Infinity, got -Infinity`,
      });
    }
  });
});
