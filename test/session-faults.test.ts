import { afterEach, describe, expect, it } from 'vitest';
import { InternalError, Runtime, SessionError, VariableLockedError, VersionConflictError } from '../src/index.js';
import { crashOnWrite, createFaultyStore } from './support/faulty-store.js';
import { waitFor } from './support/wait-for.js';

describe('session faults', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('finishes a write in flight before stopping, and tells its caller it succeeded', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    faults.commitDelayMs = 30;
    const write = session.setVariable('x', 2);
    const queued = session.setVariable('x', 3);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await session.stop();
    await expect(write).resolves.toMatchObject({ value: 2, version: 2 });
    // The write queued behind it never started: refused, and not applied.
    await expect(queued).rejects.toMatchObject({ code: 'session_stopped' });
    faults.commitDelayMs = 0;
    expect(await (await runtime.session('s')).getVariable('x')).toBe(2);
  });

  it("says a write's outcome is unknown when its session process is stopped from outside while it commits, and only its", async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    await session.defineVariable('y', 'integer', 1);
    faults.commitDelayMs = 30;
    const write = session.setVariable('x', 2).catch((error: unknown) => error);
    const queued = session.setVariable('y', 2).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await runtime.stopProcess('tether.session.s');
    const error = await write;
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_stopped', details: { sessionId: 's', outcome: 'unknown' } });
    // The write queued behind it never started: plainly stopped.
    expect(await queued).toMatchObject({ code: 'session_stopped', details: { sessionId: 's' } });
    expect(((await queued) as SessionError).details).not.toHaveProperty('outcome');
    // Unknown indeed: the store had the write in flight already, and only that one.
    faults.commitDelayMs = 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await runtime.session('s');
    expect([await again.getVariable('x'), await again.getVariable('y')]).toEqual([2, 1]);
  });

  it('lets a write in flight finish when the runtime stops', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    faults.commitDelayMs = 30;
    const write = session.setVariable('x', 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await runtime.stop();
    await expect(write).resolves.toMatchObject({ value: 2 });
    expect((await store.get('s.x'))?.value.value).toBe(2);
  });

  it('refuses what reaches a session after the runtime began to stop, as it refuses what had not reached it yet', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 0);
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const before = session.updateVariable('x', (x) => (x as number) + 1);
    const stopping = runtime.stop();
    const after = [
      session.setVariable('x', 99),
      session.getVariable('x'),
      session.watchVariables('*', () => {}),
      qa.execute({ question: 'q' }),
    ];
    for (const use of [before, ...after]) await expect(use).rejects.toMatchObject({ code: 'session_stopped' });
    await stopping;
  });

  it('refuses the session when the store cannot load it', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    faults.listError = new Error('store unreachable');
    await expect(runtime.session('down')).rejects.toMatchObject({
      code: 'internal_error',
      message: expect.stringContaining('store unreachable'),
    });
    faults.listError = undefined;
    await expect(runtime.session('down')).resolves.toBeDefined();
  });

  it('opens an expired id empty though the purge of its expiry failed, purging what is left first', async () => {
    const { store, faults } = createFaultyStore();
    const reported: [unknown, string][] = [];
    runtime = await Runtime.start({
      store,
      sessionTtlMs: 150,
      onError: (error, where) => reported.push([error, where]),
    });
    const session = await runtime.session('stale');
    await session.defineVariable('x', 'integer', 1);
    faults.purgeError = new Error('store briefly unavailable');
    await waitFor(() => reported.length === 1, { message: 'the failed purge was reported' });
    expect(reported[0]).toEqual([faults.purgeError, 'session stale']);
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_expired' });
    // Still failing: the id is refused, not opened with the expired life's variables as its own.
    await expect(runtime.session('stale')).rejects.toMatchObject({
      code: 'internal_error',
      message: expect.stringContaining('store briefly unavailable'),
    });
    faults.purgeError = undefined;
    const again = await runtime.session('stale');
    expect(await again.listVariables()).toEqual([]);
    expect(await store.keys('stale.')).toEqual([]);
    expect((await again.defineVariable('x', 'integer', 2)).version).toBe(1);
  });

  it('opens a deleted id empty though the purge of its deletion failed, purging what is left first', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('half-deleted');
    await session.defineVariable('x', 'integer', 1);
    faults.purgeError = new Error('store briefly unavailable');
    await expect(session.delete()).rejects.toThrow('store briefly unavailable');
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    faults.purgeError = undefined;
    const again = await runtime.session('half-deleted');
    await expect(again.getVariable('x')).rejects.toMatchObject({ code: 'variable_not_found' });
    // Purged, history and all; the deletion's marker stays (its purge would be heard as the id deleted again).
    expect(await store.keys('half-deleted.')).toEqual([{ key: 'half-deleted.=ended', revision: expect.any(Number) }]);
    expect(await store.history('half-deleted.x')).toEqual([]);
  });

  it("keeps a new life's variables, written by another runtime on the store, when a failed deletion's purge is done", async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const other = await Runtime.start({ store });
    try {
      const session = await runtime.session('reused');
      await session.defineVariable('x', 'integer', 1);
      faults.purgeError = new Error('store briefly unavailable');
      await expect(session.delete()).rejects.toThrow('store briefly unavailable');
      faults.purgeError = undefined;
      // The id opened again on the other runtime: a new session, whose variable is written after the deletion.
      const reopened = await other.session('reused');
      await reopened.defineVariable('y', 'integer', 2);
      // This runtime owes the deletion's purge, done as the id opens here: the deleted life's x goes, y stays.
      const here = await runtime.session('reused');
      expect(await here.getVariable('y')).toBe(2);
      await expect(here.getVariable('x')).rejects.toMatchObject({ code: 'variable_not_found' });
      expect(await reopened.getVariable('y')).toBe(2);
    } finally {
      await other.stop();
    }
  });

  it("keeps a new life's variables, written by another runtime on the store, when a failed expiry's purge is done", async () => {
    const { store, faults } = createFaultyStore();
    const reported: unknown[] = [];
    runtime = await Runtime.start({ store, sessionTtlMs: 150, onError: (error) => reported.push(error) });
    const other = await Runtime.start({ store });
    try {
      const session = await runtime.session('lapsed');
      await session.defineVariable('x', 'integer', 1);
      faults.purgeError = new Error('store briefly unavailable');
      await waitFor(() => reported.length === 1, { message: 'the failed purge was reported' });
      faults.purgeError = undefined;
      // The id opened again on the other runtime, whose new variable is written after the expiry.
      const reopened = await other.session('lapsed');
      await reopened.defineVariable('y', 'integer', 2);
      const here = await runtime.session('lapsed');
      expect(await here.getVariable('y')).toBe(2);
      await expect(here.getVariable('x')).rejects.toMatchObject({ code: 'variable_not_found' });
    } finally {
      await other.stop();
    }
  });

  it('reports a failed commit to the writer and changes nothing', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    faults.commitError = new Error('disk full');
    await expect(session.setVariable('x', 2)).rejects.toBeInstanceOf(InternalError);
    faults.commitError = undefined;
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1 });
    expect(await session.setVariable('x', 3)).toMatchObject({ value: 3, version: 2 });
  });

  it('answers a store failure, not the refusal, when the store cannot confirm a locked variable, and writes nothing', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    await session.lockVariable('x', 'alice');
    // A refusal that rests on the view (here: locked) is confirmed against the store before it is answered.
    faults.lastChangeError = new Error('disk unreadable');
    await expect(session.setVariable('x', 2, { updatedBy: 'bob' })).rejects.toBeInstanceOf(InternalError);
    faults.lastChangeError = undefined;
    await expect(session.setVariable('x', 2, { updatedBy: 'bob' })).rejects.toBeInstanceOf(VariableLockedError);
    expect(await session.describeVariable('x')).toMatchObject({ value: 1, version: 1, lockedBy: 'alice' });
    expect(await session.setVariable('x', 3, { updatedBy: 'alice' })).toMatchObject({ value: 3, version: 2 });
  });

  it('gives up with a VersionConflictError naming the variable when the store keeps moving', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('x', 'integer', 1);
    faults.alwaysConflict = true;
    const refused = session.setVariable('x', 2);
    await expect(refused).rejects.toBeInstanceOf(VersionConflictError);
    await expect(refused).rejects.toMatchObject({ variable: 'x', message: expect.stringContaining("variable 'x'") });
    faults.alwaysConflict = false;
    expect(await session.getVariable('x')).toBe(1);
  });

  it('restarts a crashed session on its next use, with every accepted write kept', async () => {
    const { store, faults } = createFaultyStore();
    const reported: unknown[] = [];
    runtime = await Runtime.start({ store, onError: (error) => reported.push(error) });
    const session = await runtime.session('fragile');
    await session.defineVariable('x', 'integer', 1);
    faults.commitThrows = new Error('store driver bug');
    await expect(session.setVariable('x', 2)).rejects.toMatchObject({ code: 'process_exited' });
    expect(reported).toContainEqual(faults.commitThrows);
    faults.commitThrows = undefined;
    expect(await session.getVariable('x')).toBe(1);
    expect(await session.setVariable('x', 3)).toMatchObject({ value: 3, version: 2 });
  });

  it('keeps a crashed session listed until its next use, and expires it after its TTL as if it had run', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, sessionTtlMs: 150, onError: () => {} });
    const session = await runtime.session('fragile');
    await session.defineVariable('x', 'integer', 1);
    await crashOnWrite(session, 'x', faults);
    // Its variables are in the store: it is still a session, though no process runs it now.
    expect(runtime.sessionIds()).toEqual([]);
    expect(await runtime.listSessions()).toEqual({ ids: ['fragile'] });
    // Nothing uses it: its TTL runs out, and it expires as a running one does, its variables purged.
    await waitFor(async () => (await runtime!.listSessions()).ids.length === 0, { message: 'crashed session expired' });
    await waitFor(async () => (await store.get('fragile.x')) === undefined, { message: 'variables purged' });
    // Its handle hears that it expired, rather than waking an empty session of the same id.
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_expired', sessionId: 'fragile' });
    const fresh = await runtime.session('fragile');
    expect(await fresh.hasVariable('x')).toBe(false);
    await expect(session.setVariable('x', 3)).rejects.toMatchObject({ code: 'session_expired' });
    // The new session's own crash is only a crash: its handle wakes it, with its writes kept.
    await fresh.defineVariable('y', 'integer', 1);
    await crashOnWrite(fresh, 'y', faults);
    expect(await fresh.getVariable('y')).toBe(1);
  });

  it('tells the handle of a session deleted while crashed that it is gone, and starts nothing for it', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, onError: () => {} });
    const session = await runtime.session('fragile');
    await session.defineVariable('x', 'integer', 1);
    await crashOnWrite(session, 'x', faults);
    const other = await runtime.session('fragile');
    // The second handle woke it; its crash again leaves it crashed, then a third deletes it.
    await crashOnWrite(other, 'x', faults);
    await (await runtime.session('fragile')).delete();
    for (const handle of [session, other])
      await expect(handle.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await runtime.listSessions()).toEqual({ ids: [] });
  });

  it('tells the handle of a crashed process that its session was deleted, though another process of it stopped since', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, onError: () => {} });
    const crashed = await runtime.session('fragile');
    await crashed.defineVariable('x', 'integer', 1);
    await crashOnWrite(crashed, 'x', faults);
    // A second process of the session starts and is stopped; a third runs when the session is deleted.
    await (await runtime.session('fragile')).stop();
    await (await runtime.session('fragile')).delete();
    await expect(crashed.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await runtime.listSessions()).toEqual({ ids: [] });
  });

  // Found by a review: deleted while no process of it ran, the session was woken again, empty, by such a handle.
  it('tells every handle of a crashed process that its session was deleted through one of them', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, onError: () => {} });
    const first = await runtime.session('fragile');
    await first.defineVariable('x', 'integer', 1);
    const second = await runtime.session('fragile');
    await crashOnWrite(first, 'x', faults);
    await (await runtime.session('fragile')).stop();
    await first.delete();
    await expect(second.getVariable('x')).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(second.defineVariable('y', 'integer', 1)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await runtime.listSessions()).toEqual({ ids: [] });
  });

  it('restarts a crashed session used again before its TTL, and it stays listed', async () => {
    const { store, faults } = createFaultyStore();
    runtime = await Runtime.start({ store, sessionTtlMs: 60_000, onError: () => {} });
    const session = await runtime.session('fragile');
    await session.defineVariable('x', 'integer', 1);
    await crashOnWrite(session, 'x', faults);
    expect(await session.setVariable('x', 3)).toMatchObject({ value: 3 });
    expect(runtime.sessionIds()).toEqual(['fragile']);
    expect(await runtime.listSessions()).toEqual({ ids: ['fragile'] });
  });

  it('survives an onError handler that throws', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      runtime = await Runtime.start({
        onError: () => {
          throw new Error('reporter bug');
        },
      });
      const session = await runtime.session('s');
      await session.defineVariable('x', 'integer', 1);
      const seen: number[] = [];
      await session.watchVariables('x', (change) => {
        seen.push(change.newValue as number);
        throw new Error('listener bug');
      });
      await session.setVariable('x', 2);
      await session.setVariable('x', 3);
      await waitFor(() => seen.length === 2);
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      qa.on('module.result', () => {
        throw new Error('module listener bug');
      });
      await qa.execute({ question: 'still alive?' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('refuses operations on a stopped session with SessionError, modules included', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('gone');
    await session.stop();
    await expect(
      session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' }),
    ).rejects.toBeInstanceOf(SessionError);
    await expect(session.modules()).rejects.toBeInstanceOf(SessionError);
    await expect(session.watchVariables('*', () => {})).rejects.toBeInstanceOf(SessionError);
  });
});
