/**
 * A node's `nats.unavailableRetryMs` that is no whole number of milliseconds, 0 or more, is refused with
 * `validation_failed` naming the option and the value given, before the node connects: a server that is not there
 * is never dialled (the error is not `nats_connection`), and nothing is created.
 */
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../../src/index.js';
import { closedPort } from '../support/closed-port.js';

describe('nats.unavailableRetryMs', () => {
  it('is refused with validation_failed naming it when it is no whole number of ms, before connecting', async () => {
    const servers = `nats://127.0.0.1:${await closedPort()}`;
    for (const value of [-1, 1.5, Number.NaN, Infinity, '500'] as number[]) {
      const error = await Runtime.start({ nats: { servers, unavailableRetryMs: value } }).then(
        (runtime) => runtime.stop().then(() => undefined),
        (failure: unknown) => failure,
      );
      expect(error, String(value)).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: 'validation_failed',
        message: `unavailableRetryMs must be a whole number of milliseconds, 0 or more, got ${typeof value === 'string' ? `"${value}"` : value}`,
        details: { option: 'unavailableRetryMs', value },
      });
    }
  });
});
