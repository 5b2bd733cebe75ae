/**
 * A request whose session is gone has its fields judged first: a bad one is refused as such, and only a good one
 * hears that the session is gone, as an embedded handle judges its arguments first (src/session/arguments-first.ts).
 * Found by the differential fuzzer: a remote handle whose session was deleted heard `session_not_found` for a bad
 * variable name the node judges (`getVariables([' t'])`), where the embedded handle, and the same handle's calls
 * whose arguments the client judges, said `validation_failed`.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError, type RemoteSession } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { settledCode } from '../support/settled-code.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Calls whose arguments the node judges, each with a bad argument and with good ones. */
const CALLS: readonly (readonly [string, (s: RemoteSession, bad: boolean) => Promise<unknown>])[] = [
  ['getVariable', (s, bad) => s.getVariable(bad ? 'a b' : 'x')],
  ['describeVariable', (s, bad) => s.describeVariable(bad ? '' : 'x')],
  ['hasVariable', (s, bad) => s.hasVariable(bad ? 'x*' : 'x')],
  ['getVariables', (s, bad) => s.getVariables(['x', bad ? ' t' : 'y'])],
  ['setVariable', (s, bad) => s.setVariable(bad ? '1x' : 'x', 2)],
  ['deleteVariable', (s, bad) => s.deleteVariable(bad ? '>' : 'x')],
  ['variableHistory', (s, bad) => s.variableHistory(bad ? 'x.y' : 'x')],
  ['updateVariable', (s, bad) => s.updateVariable(bad ? 'x y' : 'x', (v) => Number(v) + 1)],
];

async function deletedThroughAnother(id: string): Promise<RemoteSession> {
  const handle = await (await fx().client()).session(id);
  await handle.defineVariable('x', 'integer', 1);
  await (await (await fx().client()).session(id)).delete();
  return handle;
}

describe('a remote handle whose session was deleted', () => {
  it.each(CALLS)(
    '%s: a bad argument is refused as on a live session; good ones hear the session is gone',
    async (_, call) => {
      await fx().node(fx().buckets());
      const live = await (await fx().client()).session('live');
      const expected = await call(live, true).catch((e: unknown) => e);
      expect(expected).toBeInstanceOf(ValidationError);

      const gone = await deletedThroughAnother('gone');
      const error = await call(gone, true).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toBe((expected as ValidationError).message);
      expect(await settledCode(call(gone, false))).toBe('session_not_found');
    },
  );
});

describe('a raw request bound to a life that ended', () => {
  it('with a bad field is refused as such; with good ones hears the life is over', async () => {
    await fx().node(fx().buckets());
    const gone = await deletedThroughAnother('s');
    const life: [string, string] = ['Tether-Incarnation', gone.incarnation!];
    const subject = 'tether.v1.session.s.var.set';
    const bad = await rawReply(nc(), subject, JSON.stringify({ name: 'x', value: 2, expectedVersion: -1 }), life);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed' });
    expect(bad.body.error.message).toContain('expectedVersion');
    const good = await rawReply(nc(), subject, JSON.stringify({ name: 'x', value: 2 }), life);
    expect(good.body.error).toMatchObject({ code: 'session_not_found', details: { incarnation: gone.incarnation } });
    // Nothing was written for either: the id has no session.
    const reopened = await (await fx().client()).session('s');
    expect(await reopened.listVariables()).toEqual([]);
  });
});
