import { afterEach, describe, expect, it } from 'vitest';
import { MAX_LOCK_OWNER_LENGTH } from '../src/variables/record.js';
import { Runtime, createMemoryStore, type VariableRecord } from '../src/index.js';
import { laggingStore } from './support/lagging-store.js';
import { waitFor } from './support/wait-for.js';

/**
 * A lock or unlock that the session's view shows done already is confirmed against the store before it is answered:
 * the view can lag the store (a lock taken through another runtime sharing it, not routed here yet), and answering
 * from the view would report a lock state the store does not hold, with nothing written.
 */
describe('session locks', () => {
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  it('writes an unlock that a stale view shows done already', async () => {
    const store = createMemoryStore<VariableRecord>();
    const a = await Runtime.start({ store });
    const b = await Runtime.start({ store: laggingStore(store, 300) });
    runtimes.push(a, b);
    const onA = await a.session('s');
    await onA.defineVariable('x', 'integer', 1);
    const onB = await b.session('s');
    await waitFor(() => onB.hasVariable('x'));

    await onA.lockVariable('x', 'alice');
    // B has not heard of the lock: its view shows `x` unlocked.
    expect((await onB.describeVariable('x')).lockedBy).toBeNull();
    expect(await onB.unlockVariable('x', 'alice')).toMatchObject({ lockedBy: null });
    expect((await store.get('s.x'))?.value.lockedBy).toBeNull();
    expect((await onB.describeVariable('x')).lockedBy).toBeNull();
  });

  it('writes nothing for a lock already held, or an unlock of a variable nobody locked', async () => {
    const store = createMemoryStore<VariableRecord>();
    const runtime = await Runtime.start({ store });
    runtimes.push(runtime);
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    await session.defineVariable('y', 'integer', 1);
    await session.lockVariable('x', 'alice');
    const before = { x: await store.history('s.x'), y: await store.history('s.y') };

    expect(await session.lockVariable('x', 'alice')).toMatchObject({ lockedBy: 'alice', version: 1 });
    expect(await session.unlockVariable('y', 'alice')).toMatchObject({ lockedBy: null, version: 1 });
    expect({ x: await store.history('s.x'), y: await store.history('s.y') }).toEqual(before);
  });

  it('takes a lock owner of MAX_LOCK_OWNER_LENGTH characters, and refuses one a character longer', async () => {
    const runtime = await Runtime.start();
    runtimes.push(runtime);
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    const longest = 'o'.repeat(MAX_LOCK_OWNER_LENGTH);
    await expect(session.lockVariable('x', `${longest}o`)).rejects.toMatchObject({
      code: 'validation_failed',
      variable: 'x',
      details: { constraint: 'lockOwner', maxLength: MAX_LOCK_OWNER_LENGTH },
    });
    expect(await session.lockVariable('x', longest)).toMatchObject({ lockedBy: longest });
    expect(await session.setVariable('x', 2, { updatedBy: longest })).toMatchObject({ value: 2, lockedBy: longest });
    expect(await session.unlockVariable('x', longest)).toMatchObject({ lockedBy: null });
  });
});
