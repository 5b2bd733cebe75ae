import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Runtime, type Session, type VariableChange } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

describe('session watchVariables', () => {
  let runtime: Runtime;
  let session: Session;
  let errors: unknown[];

  beforeEach(async () => {
    errors = [];
    runtime = await Runtime.start({ onError: (error) => errors.push(error) });
    session = await runtime.session('w1');
  });
  afterEach(() => runtime.stop());

  it('delivers the initial values in name order, whatever order the variables were defined in', async () => {
    for (const name of ['zeta', 'alpha', 'mu']) await session.defineVariable(name, 'integer', 1);
    const seen: string[] = [];
    const unwatch = await session.watchVariables('*', (change) => seen.push(change.name), { includeInitial: true });
    // The same order a session loaded from the store (another runtime, a woken process) gives, and listVariables.
    expect(seen).toEqual(['alpha', 'mu', 'zeta']);
    unwatch();
  });

  it('delivers initial values, then every accepted change in version order, and nothing for refused writes', async () => {
    await session.defineVariable('llm_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
    await session.defineVariable('llm_model', 'string', 'small');
    await session.defineVariable('other', 'integer', 0);
    const seen: VariableChange[] = [];
    const unwatch = await session.watchVariables('llm_*', (change) => seen.push(change), { includeInitial: true });

    await session.setVariable('llm_temperature', 0.9, { updatedBy: 'tuner' });
    await expect(session.setVariable('llm_temperature', 5)).rejects.toThrow('above maximum');
    await session.setVariable('other', 1);
    await session.setVariables({ llm_temperature: 1.1, llm_model: 'large' }, { atomic: true });
    await waitFor(() => seen.length === 5);

    expect(seen.slice(0, 2).map((c) => [c.name, c.oldValue, c.newValue, c.version])).toEqual(
      expect.arrayContaining([
        ['llm_temperature', undefined, 0.7, 1],
        ['llm_model', undefined, 'small', 1],
      ]),
    );
    expect(seen.slice(2)).toEqual([
      { name: 'llm_temperature', oldValue: 0.7, newValue: 0.9, version: 2, updatedBy: 'tuner' },
      { name: 'llm_temperature', oldValue: 0.9, newValue: 1.1, version: 3, updatedBy: null },
      { name: 'llm_model', oldValue: 'small', newValue: 'large', version: 2, updatedBy: null },
    ]);

    unwatch();
    await session.setVariable('llm_temperature', 0.1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toHaveLength(5);
  });

  it('tells nothing of a lock or an unlock, which write the record but no version', async () => {
    await session.defineVariable('n', 'integer', 1);
    const seen: VariableChange[] = [];
    const unwatch = await session.watchVariables('n', (change) => seen.push(change));
    await session.lockVariable('n', 'me');
    await session.setVariable('n', 2, { updatedBy: 'me' });
    await session.unlockVariable('n', 'me');
    await session.setVariable('n', 3);
    // Delivered in order: a lock or unlock told would come before the write after it.
    await waitFor(() => seen.length >= 2);
    expect(seen.map((c) => [c.oldValue, c.newValue, c.version])).toEqual([
      [1, 2, 2],
      [2, 3, 3],
    ]);
    unwatch();
  });

  it('ends the watches of a stopped handle: writes through another handle of the session reach them no more', async () => {
    await session.defineVariable('n', 'integer', 0);
    const stopped: number[] = [];
    const unwatch = await session.watchVariables('n', (change) => stopped.push(change.newValue as number));
    await session.setVariable('n', 1);
    await waitFor(() => stopped.length === 1, { message: 'the write before the stop heard' });
    await session.stop();
    const again = await runtime.session('w1');
    const kept: number[] = [];
    await again.watchVariables('n', (change) => kept.push(change.newValue as number));
    await again.setVariable('n', 2);
    await waitFor(() => kept.length === 1, { message: 'the new handle’s watch hears the write' });
    expect(stopped).toEqual([1]);
    // Unwatching a watch its handle's stop ended is harmless, and leaves the other handle's watch alone.
    unwatch();
    await again.setVariable('n', 3);
    await waitFor(() => kept.length === 2, { message: 'the new handle’s watch hears the next write' });
    expect(kept).toEqual([2, 3]);
    await expect(session.watchVariables('n', () => {})).rejects.toMatchObject({ code: 'session_stopped' });
  });

  // Found by a review: a stop through one handle, or a kill from outside, left every other handle answering
  // `session_stopped` while its watch went on hearing the writes of the session's next process.
  it.each(['stopped through another handle', 'killed from outside'])(
    'ends the watches of every handle of a session %s, as their calls end',
    async (how) => {
      await session.defineVariable('n', 'integer', 0);
      const other = await runtime.session('w1');
      const heard: number[] = [];
      await other.watchVariables('n', (change) => heard.push(change.newValue as number));
      if (how === 'killed from outside') await runtime.stopProcess('tether.session.w1', 'kill');
      else await session.stop();
      await expect(other.getVariable('n')).rejects.toMatchObject({ code: 'session_stopped' });
      const again = await runtime.session('w1');
      const kept: number[] = [];
      await again.watchVariables('n', (change) => kept.push(change.newValue as number));
      await again.setVariable('n', 2);
      await waitFor(() => kept.length === 1, { message: 'the new handle’s watch hears the write' });
      expect(heard).toEqual([]);
    },
  );

  it('refuses a watch that a stop of its handle overtook while it started, rather than leave it running', async () => {
    await session.defineVariable('n', 'integer', 0);
    const heard: unknown[] = [];
    const watching = session.watchVariables('n', (change) => heard.push(change.newValue));
    const stopping = session.stop();
    await expect(watching).rejects.toMatchObject({ code: 'session_stopped' });
    await stopping;
    await (await runtime.session('w1')).setVariable('n', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard).toEqual([]);
  });

  it('tells a listener that unwatched nothing more, not even changes of the same batch queued for it', async () => {
    await session.defineVariable('a', 'integer', 0);
    await session.defineVariable('b', 'integer', 0);
    const heard: string[] = [];
    const unwatch = await session.watchVariables('*', (change) => {
      heard.push(change.name);
      unwatch();
    });
    const others: string[] = [];
    await session.watchVariables('*', (change) => others.push(change.name));
    await session.setVariables({ a: 1, b: 1 }, { atomic: true });
    await waitFor(() => others.length === 2);
    expect(heard).toEqual(['a']);
  });

  it('hands listeners frozen changes: one listener cannot change what the next one hears', async () => {
    await session.defineVariable('n', 'integer', 0);
    const heard: VariableChange[] = [];
    await session.watchVariables('n', (change) => {
      (change as { newValue: unknown }).newValue = 'tampered';
    });
    await session.watchVariables('n', (change) => heard.push(change));
    await session.setVariable('n', 1);
    await waitFor(() => heard.length === 1);
    expect(Object.isFrozen(heard[0])).toBe(true);
    expect(heard[0]).toMatchObject({ newValue: 1 });
  });

  it('delivers many rapid writes to one variable in version order', async () => {
    await session.defineVariable('n', 'integer', 0);
    const versions: number[] = [];
    await session.watchVariables('n', (change) => versions.push(change.version));
    await Promise.all(Array.from({ length: 50 }, (_, i) => session.setVariable('n', i)));
    await waitFor(() => versions.length === 50);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
  });

  it('reports a listener that throws and keeps delivering to others', async () => {
    await session.defineVariable('n', 'integer', 0);
    const good: number[] = [];
    await session.watchVariables('*', () => {
      throw new Error('listener bug');
    });
    await session.watchVariables('*', (change) => good.push(change.newValue as number));
    await session.setVariable('n', 1);
    await session.setVariable('n', 2);
    await waitFor(() => good.length === 2);
    expect(good).toEqual([1, 2]);
    expect(errors).toHaveLength(2);
    expect(await session.getVariable('n')).toBe(2);
  });

  it('tells watchers of a deletion', async () => {
    await session.defineVariable('gone', 'string', 'x');
    const seen: VariableChange[] = [];
    await session.watchVariables('gone', (change) => seen.push(change));
    await session.deleteVariable('gone');
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ name: 'gone', oldValue: 'x', newValue: undefined, deleted: true });
  });

  it('tells watchers who deleted, exactly as given, and null for a deletion that names nobody', async () => {
    const deleter = 'ops\r\nZoë 🚀';
    await session.defineVariable('a', 'string', 'x');
    await session.defineVariable('b', 'string', 'y');
    await session.lockVariable('a', deleter);
    const seen: VariableChange[] = [];
    await session.watchVariables('*', (change) => seen.push(change));
    await session.deleteVariable('a', { updatedBy: deleter });
    await session.deleteVariable('b');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([
      { name: 'a', oldValue: 'x', newValue: undefined, version: 2, updatedBy: deleter, deleted: true },
      { name: 'b', oldValue: 'y', newValue: undefined, version: 2, updatedBy: null, deleted: true },
    ]);
  });
});
