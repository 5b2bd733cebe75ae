/**
 * The order in which a session call's mistakes are reported (src/session/arguments-first.ts): a stopped handle says
 * so first, then a bad argument, and only then that the session is gone. A remote handle reports them in that order
 * (its node checks a request's fields before it looks the session up); the differential fuzzer found the embedded
 * handle saying `session_not_found` for a bad name once its session was deleted, on every call below.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, SessionError, ValidationError, type Session } from '../../src/index.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

const failure = (call: () => unknown): Promise<unknown> =>
  Promise.resolve()
    .then(call)
    .then(
      () => 'resolved',
      (e: unknown) => e,
    );

/** Each call with a bad argument, and the same call with good ones. */
const CALLS: readonly (readonly [string, (s: Session, bad: boolean) => unknown])[] = [
  ['getVariable', (s, bad) => s.getVariable(bad ? 'has space' : 'x')],
  ['describeVariable', (s, bad) => s.describeVariable(bad ? '' : 'x')],
  ['hasVariable', (s, bad) => s.hasVariable(bad ? 'a*' : 'x')],
  ['getVariables', (s, bad) => s.getVariables(['x', bad ? 'a.b' : 'y'])],
  ['setVariable', (s, bad) => s.setVariable(bad ? '1x' : 'x', 3)],
  ['updateVariable', (s, bad) => s.updateVariable(bad ? 'x y' : 'x', (v) => Number(v) + 1)],
  ['deleteVariable', (s, bad) => s.deleteVariable(bad ? '-x' : 'x')],
  ['variableHistory', (s, bad) => s.variableHistory(bad ? 'x!' : 'x')],
  ['lockVariable', (s, bad) => s.lockVariable('x', bad ? '' : 'me')],
  ['unlockVariable', (s, bad) => s.unlockVariable(bad ? 'x?' : 'x', 'me')],
  ['watchVariables', (s, bad) => s.watchVariables(bad ? 'x'.repeat(1025) : 'x*', () => {})],
  ['module', (s, bad) => s.module(bad ? 'q.a' : 'qa')],
];

async function session(id: string): Promise<Session> {
  runtime ??= await Runtime.start();
  const s = await runtime.session(id);
  await s.defineVariable('x', 'integer', 1);
  return s;
}

describe('a call on a session that is gone', () => {
  it.each(CALLS)('%s judges a bad argument first, as on a live session', async (_, call) => {
    const live = await session('live');
    const expected = await failure(() => call(live, true));
    expect(expected).toBeInstanceOf(ValidationError);
    const gone = await session('gone');
    await gone.delete();
    const error = await failure(() => call(gone, true));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe((expected as ValidationError).message);
    // Nothing came back to life for it.
    expect(await (await runtime!.session('gone')).listVariables()).toEqual([]);
  });

  it.each(CALLS)('%s with good arguments says the session is not found', async (_, call) => {
    const gone = await session('gone');
    await gone.delete();
    expect(await failure(() => call(gone, false))).toMatchObject({ code: 'session_not_found' });
  });

  it.each(CALLS)('%s on a stopped handle says it is stopped, whatever its arguments', async (_, call) => {
    const stopped = await session('stopped');
    await stopped.stop();
    for (const bad of [true, false]) {
      const error = await failure(() => call(stopped, bad));
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toMatchObject({ code: 'session_stopped' });
    }
  });
});
