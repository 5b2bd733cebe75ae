/**
 * A rollback to a version the history no longer keeps (pushed out past `historyDepth`) or never held (a version to
 * come) is refused with `validation_failed` saying which versions it does keep, so the caller can tell a version
 * lost to the depth from a mistyped one and pick one to roll back to. Embedded, through another node, and remote
 * alike; nothing is written.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, createMemoryStore, type SessionApi, type VariableRecord } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

/** Defines `d` and writes it until it is at version 10: a depth of 4 keeps versions 7 to 10. */
async function tenVersions(writer: SessionApi): Promise<void> {
  await writer.defineVariable('d', 'integer', 1);
  for (let value = 2; value <= 10; value++) await writer.setVariable('d', value);
}

/** What refusing a rollback of `d` to a version left out (6) and to one to come (11) says, and what `d` then is. */
async function refusals(session: SessionApi) {
  const refusal = (version: number) =>
    session.rollbackVariable('d', version).then(
      () => 'rolled back',
      (error: { code?: string; message?: string; details?: unknown }) => ({
        code: error.code,
        message: error.message,
        details: error.details,
      }),
    );
  const [older, newer] = [await refusal(6), await refusal(11)];
  const { version } = await session.describeVariable('d');
  return { older, newer, version };
}

const expected = {
  older: {
    code: 'validation_failed',
    message: "variable 'd' has no version 6 in its history, which keeps versions 7 to 10",
    details: { variable: 'd', version: 6, oldestVersion: 7, newestVersion: 10 },
  },
  newer: {
    code: 'validation_failed',
    message: "variable 'd' has no version 11 in its history, which keeps versions 7 to 10",
    details: { variable: 'd', version: 11, oldestVersion: 7, newestVersion: 10 },
  },
  version: 10,
};

describe('a rollback to a version the history does not keep', () => {
  it('says which versions it keeps, embedded', async () => {
    const runtime = await Runtime.start({ store: createMemoryStore<VariableRecord>({ historyDepth: 4 }) });
    onTestFinished(() => runtime.stop());
    const session = await runtime.session('s');
    await tenVersions(session);
    expect(await refusals(session)).toEqual(expected);
  });

  it('says the same through another node and through a remote client', async () => {
    const buckets = fx().buckets();
    const writer = await fx().runtime(buckets, { nats: { historyDepth: 4 } });
    const other = await fx().runtime(buckets, { nats: { historyDepth: 4 } });
    await tenVersions(await writer.session('s'));
    expect(await refusals(await other.session('s'))).toEqual(expected);
    const client = await fx().client();
    expect(await refusals(await client.session('s'))).toEqual(expected);
  });
});
