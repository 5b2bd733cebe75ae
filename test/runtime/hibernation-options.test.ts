/**
 * The `hibernateAfter` that spawn refuses: not a whole number of milliseconds a timer can wait, or given for logic
 * that is not a state machine (a restore would run a promise's work again).
 */
import { describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { ValidationError, errorToJSON } from '../../src/errors.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

describe('idle hibernation: hibernateAfter refused', () => {
  it.each([0, 0.5, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100' as unknown as number])(
    'refuses hibernateAfter %s with a ValidationError and spawns nothing',
    (hibernateAfter) => {
      const runtime = createRuntime();
      expect(() => runtime.spawn(counterMachine, { name: 'refused', hibernateAfter })).toThrow(ValidationError);
      expect(runtime.whereis('refused')).toBeUndefined();
      expect(runtime.processes()).toEqual([]);
    },
  );

  it('names a refused NaN or Infinity in details as JSON can carry it, not as null', () => {
    const runtime = createRuntime();
    for (const [hibernateAfter, shown] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [0.5, 0.5],
    ] as const) {
      let error: unknown;
      try {
        runtime.spawn(counterMachine, { hibernateAfter });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect(JSON.parse(JSON.stringify(errorToJSON(error))).details).toEqual({ hibernateAfter: shown });
    }
  });

  it('refuses hibernateAfter for logic that is not a state machine', () => {
    const runtime = createRuntime();
    const promise = fromPromise(async () => 'work that a restore would run again');
    expect(() => runtime.spawn(promise, { name: 'job', hibernateAfter: 100 })).toThrow(
      expect.objectContaining({ code: 'validation_failed', message: expect.stringContaining('state machine') }),
    );
    expect(runtime.processes()).toEqual([]);
  });
});
