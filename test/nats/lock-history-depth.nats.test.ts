/**
 * A lock makes no version, yet a lock and an unlock are each a write of the variable's key: they count towards the
 * writes it keeps (`historyDepth`), in the memory store as in a KV bucket, so a variable locked and unlocked often
 * keeps fewer versions to list or roll back to (README, "Nodes and the CLI").
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, createMemoryStore, type SessionApi, type VariableRecord } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

/** Defines `x` (v1), writes it once (v2), then locks and unlocks it: four writes of its key, two versions. */
async function writeThenLockAndUnlock(session: SessionApi): Promise<void> {
  await session.defineVariable('x', 'integer', 1);
  await session.setVariable('x', 2);
  await session.lockVariable('x', 'alice');
  await session.unlockVariable('x', 'alice');
}

/** What the history of `x` lists, and whether v1 can still be rolled back to. */
async function keptVersions(session: SessionApi) {
  const listed = (await session.variableHistory('x')).map((entry) => entry.version);
  const rollback = await session.rollbackVariable('x', 1).then(
    () => 'rolled back',
    (error: { code?: string }) => error.code,
  );
  return { listed, rollback };
}

describe('a lock in the writes a variable keeps', () => {
  it('pushes the oldest version out of a memory store that keeps 3 writes: v1 is no longer listed', async () => {
    const runtime = await Runtime.start({ store: createMemoryStore<VariableRecord>({ historyDepth: 3 }) });
    onTestFinished(() => runtime.stop());
    const session = await runtime.session('s');
    await writeThenLockAndUnlock(session);
    expect(await keptVersions(session)).toEqual({ listed: [2], rollback: 'validation_failed' });
  });

  it("pushes the oldest version out of a node's bucket that keeps 3 writes, as the memory store does", async () => {
    const runtime = await fx().runtime(fx().buckets(), { nats: { historyDepth: 3 } });
    const session = await runtime.session('s');
    await writeThenLockAndUnlock(session);
    expect(await keptVersions(session)).toEqual({ listed: [2], rollback: 'validation_failed' });
  });

  it('keeps every version when the depth leaves room for the lock and the unlock', async () => {
    const runtime = await Runtime.start({ store: createMemoryStore<VariableRecord>({ historyDepth: 4 }) });
    onTestFinished(() => runtime.stop());
    const session = await runtime.session('s');
    await writeThenLockAndUnlock(session);
    expect((await session.variableHistory('x')).map((entry) => entry.version)).toEqual([1, 2]);
  });
});
