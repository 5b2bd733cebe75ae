import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/**
 * Defines a variable on a node, stops it, rewrites the record under `key` with `change` (what a node of an earlier
 * version stored there: only a rule tightened since tells it from what this version writes), and opens the session on
 * a fresh node on the same buckets: the upgraded one. `told` is what that node tells `onError`.
 */
async function upgradedNodeReading(
  sessionId: string,
  define: (session: Session) => Promise<unknown>,
  change: (record: Record<string, unknown>) => Record<string, unknown>,
): Promise<{ told: string[]; session: Session }> {
  const buckets = fx().buckets();
  const before = await fx().runtime(buckets);
  const session = await before.session(sessionId);
  await define(session);
  const [record] = await session.listVariables();
  await before.stop();
  const key = `${sessionId}.${record!.name}`;
  const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
  await kv.put(key, enc.encode(JSON.stringify(change((await kv.get(key))!.json<Record<string, unknown>>()))));
  const told: string[] = [];
  const after = await fx().runtime(buckets, { onError: (error) => told.push((error as Error).message) });
  return { told, session: await after.session(sessionId) };
}

// Found by a review: a record an earlier version wrote under a rule tightened since (a lookahead pattern before the
// linear-time matcher, a value longer than today's pattern budget tests, a lock owner before owners were bounded) was
// refused as no node's record: its variable ended on every node at the upgrade, and onError was told.
describe('a variable record an earlier version wrote, read after an upgrade', () => {
  it('keeps a string variable whose pattern the linear-time matcher refuses, refusing writes naming why', async () => {
    const { told, session } = await upgradedNodeReading(
      'up-pattern',
      (s) => s.defineVariable('code', 'string', 'abc1', { constraints: { pattern: '^[a-z0-9]+$' } }),
      (record) => ({ ...record, constraints: { pattern: '^(?=[a-z])[a-z0-9]+$' } }),
    );
    expect(await session.getVariable('code')).toBe('abc1');
    expect((await session.describeVariable('code')).constraints).toEqual({ pattern: '^(?=[a-z])[a-z0-9]+$' });
    await expect(session.setVariable('code', 'xyz2')).rejects.toMatchObject({
      code: 'validation_failed',
      message:
        'code: constraint pattern /^(?=[a-z])[a-z0-9]+$/ is not supported by the linear-time matcher: lookahead (?=',
    });
    expect(await session.getVariable('code')).toBe('abc1');
    expect(told).toEqual([]);
  });

  it('keeps a string value too long to test against its pattern, and refuses such a write', async () => {
    const long = 'a'.repeat(200_000);
    const { told, session } = await upgradedNodeReading(
      'up-long',
      (s) => s.defineVariable('text', 'string', 'a', { constraints: { pattern: '^[a-z]+$' } }),
      (record) => ({ ...record, value: long, version: 2 }),
    );
    expect(await session.getVariable('text')).toBe(long);
    await expect(session.setVariable('text', `${long}b`)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/^text: value is too long to test against pattern \^\[a-z\]\+\$: 200001 code/),
    });
    expect(told).toEqual([]);
  });

  it('keeps a variable locked by an owner of more than 256 characters, writable by that owner alone', async () => {
    const owner = `svc-${'x'.repeat(300)}`;
    const { told, session } = await upgradedNodeReading(
      'up-lock',
      (s) => s.defineVariable('x', 'integer', 7),
      (record) => ({ ...record, lockedBy: owner }),
    );
    expect(await session.describeVariable('x')).toMatchObject({ value: 7, lockedBy: owner });
    await expect(session.setVariable('x', 8, { updatedBy: 'bob' })).rejects.toMatchObject({ code: 'variable_locked' });
    expect(await session.setVariable('x', 9, { updatedBy: owner })).toMatchObject({ value: 9, lockedBy: owner });
    // The README's word: an unlock takes owners of today's length, so the holder cannot unlock it, but can delete it.
    await expect(session.unlockVariable('x', owner)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(session.deleteVariable('x', { updatedBy: 'bob' })).rejects.toMatchObject({ code: 'variable_locked' });
    expect(await session.describeVariable('x')).toMatchObject({ value: 9, lockedBy: owner });
    await session.deleteVariable('x', { updatedBy: owner });
    expect(await session.hasVariable('x')).toBe(false);
    expect(told).toEqual([]);
  });

  it('still refuses a record whose value its own variable refuses, told to onError', async () => {
    const { told, session } = await upgradedNodeReading(
      'up-foreign',
      (s) => s.defineVariable('code', 'string', 'abc', { constraints: { pattern: '^[a-z]+$' } }),
      // Everything but the value as the earlier version kept it: a value its pattern can test, and refuses.
      (record) => ({ ...record, value: 'ABC', version: 2, lockedBy: `svc-${'x'.repeat(300)}` }),
    );
    await expect(session.getVariable('code')).rejects.toMatchObject({ code: 'variable_not_found' });
    expect(told.join('\n')).toMatch(
      /store key 'up-foreign\.code' holds a value that cannot be read: .*code: must match pattern: \^\[a-z\]\+\$/,
    );
  });
});
