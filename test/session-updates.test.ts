import { describe, expect, it } from 'vitest';
import { ValidationError, type Session } from '../src/index.js';
import { expectUpdateAcrossRedefinition } from './support/update-across-redefinition.js';
import { useEmbeddedSession } from './support/embedded-session.js';

describe('session updateVariable', () => {
  let session: Session;
  useEmbeddedSession((_, s) => (session = s));

  it('refuses an update without a function, naming the variable and what it got instead, changing nothing', async () => {
    await session.defineVariable('x', 'integer', 1);
    for (const [fn, got] of [
      [null, 'null'],
      [5, 'number'],
    ] as const) {
      await expect(session.updateVariable('x', fn as never)).rejects.toMatchObject({
        code: 'validation_failed',
        variable: 'x',
        message: `updateVariable of 'x' needs a function of the current value, got ${got}`,
        details: { got },
      });
    }
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
  });

  it('counts exactly 1000 after 20 concurrent callers each make 50 increments', async () => {
    await session.defineVariable('counter', 'integer', 0);
    const caller = async () => {
      for (let i = 0; i < 50; i++) await session.updateVariable('counter', (v) => (v as number) + 1);
    };
    await Promise.all(Array.from({ length: 20 }, caller));
    expect(await session.describeVariable('counter')).toMatchObject({ value: 1000, version: 1001 });
  });

  it('runs concurrent updates of one variable one after another, so none of them has to retry', async () => {
    await session.defineVariable('counter', 'integer', 0);
    let calls = 0;
    const increment = (v: unknown) => {
      calls += 1;
      return (v as number) + 1;
    };
    await Promise.all(Array.from({ length: 500 }, () => session.updateVariable('counter', increment)));
    expect(await session.describeVariable('counter')).toMatchObject({ value: 500, version: 501 });
    // Racing each other, 500 updaters would each have read stale versions and run their function again.
    expect(calls).toBe(500);
  });

  it('records who updated and why, as setVariable does', async () => {
    await session.defineVariable('n', 'integer', 1);
    const record = await session.updateVariable('n', (v) => (v as number) + 1, { updatedBy: 'ops', reason: 'bump' });
    expect(record).toMatchObject({ value: 2, version: 2, updatedBy: 'ops', reason: 'bump' });
    expect(await session.describeVariable('n')).toMatchObject({ updatedBy: 'ops', reason: 'bump' });
  });

  it('refuses at once a value the constraints refuse, running the function once: only a lost race is retried', async () => {
    await session.defineVariable('n', 'integer', 1, { constraints: { max: 5 } });
    let calls = 0;
    const update = session.updateVariable('n', () => {
      calls += 1;
      return 9;
    });
    await expect(update).rejects.toMatchObject({ code: 'validation_failed', variable: 'n' });
    expect(calls).toBe(1);
    expect(await session.describeVariable('n')).toMatchObject({ value: 1, version: 1 });
  });

  it('keeps updates of other variables moving while one update waits, and after one fails', async () => {
    await session.defineVariable('a', 'integer', 0);
    await session.defineVariable('b', 'integer', 0);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = session.updateVariable('a', async (v) => {
      await gate;
      return (v as number) + 1;
    });
    const failing = session.updateVariable('a', () => {
      throw new Error('no');
    });
    const after = session.updateVariable('a', (v) => (v as number) + 10);
    // 'b' does not queue behind 'a'.
    expect(await session.updateVariable('b', (v) => (v as number) + 1)).toMatchObject({ value: 1 });
    expect(await session.getVariable('a')).toBe(0);
    open();
    expect(await slow).toMatchObject({ value: 1 });
    await expect(failing).rejects.toThrow('no');
    expect(await after).toMatchObject({ value: 11, version: 3 });
  });

  it('refuses an updateVariable from inside an update of the same variable, which would wait for itself', async () => {
    await session.defineVariable('n', 'integer', 0);
    await session.defineVariable('m', 'integer', 0);
    let inner: unknown;
    const outer = await session.updateVariable('n', async (v) => {
      inner = await session.updateVariable('n', (w) => (w as number) + 100).catch((error: unknown) => error);
      // Another variable is fine from here.
      await session.updateVariable('m', (w) => (w as number) + 1);
      return (v as number) + 1;
    });
    expect(inner).toBeInstanceOf(ValidationError);
    expect(inner).toMatchObject({ variable: 'n', message: expect.stringContaining('would wait for itself') });
    expect(outer).toMatchObject({ value: 1 });
    expect(await session.getVariable('m')).toBe(1);
    // Nothing is left queued: later updates of 'n' go through.
    expect(await session.updateVariable('n', (v) => (v as number) + 1)).toMatchObject({ value: 2 });
  });

  it('applies the function again to a variable deleted and defined again under it, never writes into the new one', async () => {
    const { renewed } = await expectUpdateAcrossRedefinition(session);
    await expect(session.setVariable('counter', 7, { expectedId: 5 as never })).rejects.toBeInstanceOf(ValidationError);
    expect(await session.describeVariable('counter')).toMatchObject({ value: 1, version: 2 });
    expect(await session.setVariable('counter', 7, { expectedVersion: 2, expectedId: renewed.id })).toMatchObject({
      value: 7,
    });
  });

  it('lets a listener told of an update, and a timer its function left behind, update the same variable', async () => {
    await session.defineVariable('n', 'integer', 0);
    const heard: Promise<unknown>[] = [];
    await session.watchVariables('n', (change) => {
      if (change.newValue === 1) heard.push(session.updateVariable('n', (v) => (v as number) + 10));
    });
    await session.updateVariable('n', (v) => (v as number) + 1);
    expect(await Promise.all(heard)).toMatchObject([{ value: 11 }]);

    let later!: Promise<unknown>;
    const fired = new Promise<void>((resolve) =>
      session.updateVariable('n', () => {
        // Fires once this function has settled, so its update waits for nothing of its own.
        setTimeout(() => {
          later = session.updateVariable('n', (v) => (v as number) * 2);
          resolve();
        }, 5);
        return 5;
      }),
    );
    await fired;
    expect(await later).toMatchObject({ value: 10 });
    expect(await session.getVariable('n')).toBe(10);
  });
});
