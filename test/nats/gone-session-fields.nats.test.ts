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

/**
 * Fields the session judges rather than the wire (an empty `updatedBy` or `expectedId`, a lock owner's length, a
 * rollback's version, a glob's length), each with a bad body and a good one. A raw client of a session never
 * opened, or of a life that ended, heard `session_not_found` for the bad ones, as if only its session were wrong.
 */
const SESSION_JUDGED: readonly (readonly [string, string, object, object])[] = [
  ['set', 'empty updatedBy', { name: 'x', value: 2, updatedBy: '' }, { name: 'x', value: 2, updatedBy: 'a' }],
  ['set', 'empty expectedId', { name: 'x', value: 2, expectedId: '' }, { name: 'x', value: 2, expectedId: 'i' }],
  ['delete', 'empty updatedBy', { name: 'x', updatedBy: '' }, { name: 'x', updatedBy: 'a' }],
  ['setMany', 'empty updatedBy', { values: { x: 2 }, updatedBy: '' }, { values: { x: 2 }, updatedBy: 'a' }],
  ['import', 'empty updatedBy', { records: [], updatedBy: '' }, { records: [], updatedBy: 'a' }],
  ['rollback', 'version 0', { name: 'x', version: 0 }, { name: 'x', version: 1 }],
  ['rollback', 'empty updatedBy', { name: 'x', version: 1, updatedBy: '' }, { name: 'x', version: 1, updatedBy: 'a' }],
  ['lock', 'empty owner', { name: 'x', owner: '' }, { name: 'x', owner: 'a' }],
  ['unlock', 'owner of 257 characters', { name: 'x', owner: 'o'.repeat(257) }, { name: 'x', owner: 'a' }],
  ['list', 'pattern of 1025 characters', { pattern: '*'.repeat(1025) }, { pattern: '*' }],
];

describe('a raw request to a session that is not there, with a field the session judges', () => {
  it.each(SESSION_JUDGED)(
    '%s with a bad field (%s) is refused as on a live session; a good one hears the session is gone',
    async (op, _, bad, good) => {
      await fx().node(fx().buckets());
      const send = (sid: string, body: object, header?: [string, string]) =>
        rawReply(nc(), `tether.v1.session.${sid}.var.${op}`, JSON.stringify(body), header);
      const live = await (await fx().client()).session('live');
      await live.defineVariable('x', 'integer', 1);
      const expected = (await send('live', bad)).body.error;
      expect(expected).toMatchObject({ code: 'validation_failed' });

      const gone = await deletedThroughAnother('gone');
      const life: [string, string] = ['Tether-Incarnation', gone.incarnation!];
      for (const [sid, header] of [
        ['never', undefined],
        ['gone', undefined],
        ['gone', life],
      ] as const) {
        expect((await send(sid, bad, header)).body.error).toEqual(expected);
        expect((await send(sid, good, header)).body.error.code).toBe('session_not_found');
      }
      // Nothing was written: neither id has a session.
      const ids = await (await fx().client()).listSessions();
      expect(ids.ids).toEqual(['live']);
    },
  );
});
