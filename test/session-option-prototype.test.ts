import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
});

/** An options object whose fields are inherited from `fields`, as `Object.create(fields)` makes. */
const inheriting = (fields: object): never => Object.create(fields) as never;

describe('session options that inherit their fields', () => {
  it('are refused naming the operation, and the write or read does nothing', async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    const session = await runtime.session('inherited');
    await session.defineVariable('x', 'integer', 1);
    // Before: the compare-and-set was dropped and the write landed over version 1, while getVariable took an
    // inherited default: own keys were checked, and each operation then read what it read.
    const refusals: [string, () => Promise<unknown>][] = [
      ['setVariable', () => session.setVariable('x', 2, inheriting({ expectedVersion: 99 }))],
      ['getVariable', () => session.getVariable('missing', inheriting({ default: 7 }))],
      ['setVariables', () => session.setVariables({ x: 3 }, inheriting({ atomic: true }))],
    ];
    for (const [operation, call] of refusals) {
      const error = await call().catch((e: unknown) => e);
      expect(error, operation).toMatchObject({
        code: 'validation_failed',
        message: `${operation} options must be a plain object (its fields its own), got an Object`,
      });
    }
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
    const bare = Object.assign(Object.create(null) as { expectedVersion: number }, { expectedVersion: 1 });
    expect(await session.setVariable('x', 4, bare)).toMatchObject({ value: 4, version: 2 });
  });
});
