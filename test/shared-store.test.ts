import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createMemoryStore, type Store, type VariableChange, type VariableRecord } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

describe('two runtimes on one store', () => {
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  async function pair() {
    const store = createMemoryStore<VariableRecord>();
    const a = await Runtime.start({ store });
    const b = await Runtime.start({ store });
    runtimes.push(a, b);
    return { a: await a.session('shared'), b: await b.session('shared') };
  }

  it('routes a write on one runtime to the other runtime’s session and watchers', async () => {
    const { a, b } = await pair();
    await a.defineVariable('temperature', 'float', 0.7);
    const seen: VariableChange[] = [];
    await waitFor(async () => b.hasVariable('temperature'));
    await b.watchVariables('temperature', (change) => seen.push(change));
    await a.setVariable('temperature', 0.9, { updatedBy: 'a' });
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ name: 'temperature', oldValue: 0.7, newValue: 0.9, version: 2, updatedBy: 'a' });
    expect(await b.getVariable('temperature')).toBe(0.9);
  });

  it('tells the other runtime’s watchers who deleted a variable, and null when nobody was named', async () => {
    const { a, b } = await pair();
    await a.defineVariable('x', 'integer', 1);
    await a.defineVariable('y', 'integer', 2);
    await waitFor(async () => b.hasVariable('y'));
    const seen: VariableChange[] = [];
    await b.watchVariables('*', (change) => seen.push(change));
    await a.deleteVariable('x', { updatedBy: 'Zoë\nops' });
    await a.deleteVariable('y');
    await waitFor(() => seen.length === 2);
    expect(seen.map((c) => [c.name, c.deleted, c.updatedBy])).toEqual([
      ['x', true, 'Zoë\nops'],
      ['y', true, null],
    ]);
  });

  it('counts exactly when both runtimes increment one variable concurrently', async () => {
    const { a, b } = await pair();
    await a.defineVariable('counter', 'integer', 0);
    await waitFor(async () => b.hasVariable('counter'));
    const increments = (session: typeof a) =>
      Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < 20; i++) await session.updateVariable('counter', (v) => (v as number) + 1);
        }),
      );
    await Promise.all([increments(a), increments(b)]);
    await waitFor(async () => (await a.getVariable('counter')) === 400 && (await b.getVariable('counter')) === 400);
    expect((await b.describeVariable('counter')).version).toBe(401);
  });

  it('lets a stale writer lose its compare-and-set and retry on the fresh value', async () => {
    const { a, b } = await pair();
    await a.defineVariable('n', 'integer', 0);
    await waitFor(async () => b.hasVariable('n'));
    // Both write at once: each session plans against what it has seen; the store takes one, the other re-plans.
    await Promise.all([a.setVariable('n', 1), b.setVariable('n', 2)]);
    await waitFor(
      async () => (await a.describeVariable('n')).version === 3 && (await b.describeVariable('n')).version === 3,
    );
    expect(await a.getVariable('n')).toBe(await b.getVariable('n'));
  });

  // A store without lastChange (one a user wrote, say) is refreshed from get and history instead.
  const withoutLastChange = (): Store<VariableRecord> => {
    const { lastChange: _unused, ...rest } = createMemoryStore<VariableRecord>();
    return rest;
  };
  it.each([
    ['a store that reads the last change', () => createMemoryStore<VariableRecord>()],
    ['a store without lastChange', withoutLastChange],
  ])('lets a stale write that lost to a delete fail as not found, on %s', async (_label, makeStore) => {
    const shared = makeStore();
    // Runtime b's watch can be held back, so that its session still has the variable when it writes.
    let held: (() => void)[] | undefined;
    const late: Store<VariableRecord> = {
      ...shared,
      watch: (prefix, listener, options) =>
        shared.watch(prefix, (change) => (held ? held.push(() => listener(change)) : listener(change)), options),
    };
    const a = await Runtime.start({ store: shared });
    const b = await Runtime.start({ store: late });
    runtimes.push(a, b);
    const [sa, sb] = [await a.session('shared'), await b.session('shared')];
    await sa.defineVariable('n', 'integer', 0);
    await waitFor(async () => sb.hasVariable('n'));

    held = [];
    await sa.deleteVariable('n');
    // b plans against its stale record; the store refuses it, and the refresh must show b the delete marker.
    await expect(sb.setVariable('n', 2)).rejects.toMatchObject({ code: 'variable_not_found' });
    expect(await sb.hasVariable('n')).toBe(false);
    for (const deliver of held.splice(0)) deliver();
    held = undefined;
    expect(await sa.hasVariable('n')).toBe(false);
  });

  it('ends a session deleted on one runtime on every runtime sharing the store', async () => {
    const { a, b } = await pair();
    await b.defineVariable('x', 'integer', 1);
    const heardOnB: unknown[] = [];
    await b.watchVariables('*', (change) => heardOnB.push(change.newValue));

    await a.delete();

    // B's handle of the deleted session writes nothing any more, and its watcher is dropped.
    await expect(b.defineVariable('y', 'integer', 1)).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(b.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    const [onA, onB] = [await runtimes[0]!.session('shared'), await runtimes[1]!.session('shared')];
    expect(await onA.listVariables()).toEqual([]);
    await onA.defineVariable('z', 'integer', 2);
    await waitFor(async () => onB.hasVariable('z'));
    expect((await onB.listVariables()).map((record) => record.name)).toEqual(['z']);
    expect(heardOnB).toEqual([]);
  });

  it('leaves the store it was given open when one of them stops: the other goes on with it', async () => {
    const { a, b } = await pair();
    await a.defineVariable('x', 'integer', 1);
    await runtimes[0]!.stop();
    expect(await b.setVariable('x', 2)).toMatchObject({ value: 2, version: 2 });
    expect(await (await runtimes[1]!.session('other')).defineVariable('y', 'integer', 1)).toMatchObject({ version: 1 });
  });
});

describe('two runtimes on one store, one of them idle', () => {
  it('keeps a session the other runtime keeps writing, past the idle one’s TTL', async () => {
    const store = createMemoryStore<VariableRecord>();
    // Only `idle` has a short TTL: were the other runtime's writes no use of the session there, it would expire and
    // purge the variable the busy runtime is writing.
    const idle = await Runtime.start({ store, sessionTtlMs: 300 });
    const busy = await Runtime.start({ store });
    try {
      const onBusy = await busy.session('shared');
      await onBusy.defineVariable('n', 'integer', 0);
      await idle.session('shared');
      for (let n = 1; n <= 25; n++) {
        await onBusy.setVariable('n', n);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      expect(await onBusy.describeVariable('n')).toMatchObject({ value: 25, version: 26 });
      expect((await store.get('shared.n'))?.value).toMatchObject({ value: 25 });
    } finally {
      await Promise.all([idle.stop(), busy.stop()]);
    }
  });
});
