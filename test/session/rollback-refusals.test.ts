/**
 * What an embedded `rollbackVariable` refuses, and how it says so: as every other call of the handle does (and the
 * remote handle's rollback), never in terms of the store underneath. Found in review by a differential test of the
 * embedded against the remote handle: a bad name was refused as the store key it made (`invalid store key
 * 's1.has space'`), and a handle whose session ended answered `variable_not_found`, "has no version", or the closed
 * store's `store_closed`, where every other call answered the session's `SessionError`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, SessionError, ValidationError, VariableNotFoundError, type Session } from '../../src/index.js';

let runtime: Runtime;
afterEach(() => runtime?.stop());

const failure = (call: () => Promise<unknown>): Promise<unknown> =>
  call().then(
    () => 'resolved',
    (e: unknown) => e,
  );

async function sessionWithHistory(id: string): Promise<Session> {
  runtime = await Runtime.start();
  const session = await runtime.session(id);
  await session.defineVariable('x', 'integer', 1);
  await session.setVariable('x', 2);
  return session;
}

describe('rollbackVariable refuses', () => {
  it.each(['has space', '', 'a*'])(
    'a bad name (%j) as the name, as getVariable does, not as a store key',
    async (name) => {
      const session = await sessionWithHistory('s1');
      const error = await failure(() => session.rollbackVariable(name, 1));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ message: ((await failure(() => session.getVariable(name))) as Error).message });
      expect((error as ValidationError).message).not.toContain('store key');
      expect(await session.getVariable('x')).toBe(2);
    },
  );

  it('a version the history does not keep, naming the variable and the version, changing nothing', async () => {
    const session = await sessionWithHistory('s5');
    const error = await failure(() => session.rollbackVariable('x', 99));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      message: "variable 'x' has no version 99 in its history, which keeps versions 1 to 2",
      details: { variable: 'x', version: 99, oldestVersion: 1, newestVersion: 2 },
    });
    expect(await session.describeVariable('x')).toMatchObject({ value: 2, version: 2 });
  });

  it('a version above the only one kept, saying that one', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s7');
    await session.defineVariable('x', 'integer', 1);
    await expect(session.rollbackVariable('x', 2)).rejects.toMatchObject({
      message: "variable 'x' has no version 2 in its history, which keeps only version 1",
      details: { variable: 'x', version: 2, oldestVersion: 1, newestVersion: 1 },
    });
  });

  it('a variable the session does not hold, naming it and the session, writing nothing', async () => {
    const session = await sessionWithHistory('s6');
    const error = await failure(() => session.rollbackVariable('nope', 1));
    expect(error).toBeInstanceOf(VariableNotFoundError);
    expect(error).toMatchObject({
      code: 'variable_not_found',
      message: "variable 'nope' not found in session 's6'",
      details: { sessionId: 's6', variable: 'nope' },
    });
    expect(await session.hasVariable('nope')).toBe(false);
  });

  it('on a stopped handle: session_stopped, whether or not the name and version exist', async () => {
    const session = await sessionWithHistory('s2');
    await session.stop();
    for (const [name, version] of [
      ['nope', 1],
      ['x', 9],
      ['x', 1],
    ] as const) {
      const error = await failure(() => session.rollbackVariable(name, version));
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toMatchObject({ code: 'session_stopped' });
    }
  });

  it('once the session was deleted: session_not_found, as its other calls', async () => {
    const session = await sessionWithHistory('s3');
    await session.delete();
    const error = await failure(() => session.rollbackVariable('x', 1));
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_not_found' });
  });

  it('once the runtime stopped: session_stopped, not the closed store', async () => {
    const session = await sessionWithHistory('s4');
    await runtime.stop();
    const error = await failure(() => session.rollbackVariable('x', 1));
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_stopped' });
  });
});
