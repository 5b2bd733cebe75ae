import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from 'xstate';
import { ProcessExitedError, Runtime, SessionError, ValidationError } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

describe('session lifecycle', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('expires after its idle TTL and refuses every operation with session_expired', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 60 });
    const session = await runtime.session('ttl');
    await session.defineVariable('x', 'integer', 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(session.getVariable('x')).rejects.toBeInstanceOf(SessionError);
    await expect(session.setVariable('x', 2)).rejects.toMatchObject({ code: 'session_expired', sessionId: 'ttl' });
    await expect(session.listVariables()).rejects.toMatchObject({ code: 'session_expired' });
    // The id can be used again; an expired session's variables are gone.
    const fresh = await runtime.session('ttl');
    expect(await fresh.hasVariable('x')).toBe(false);
  });

  // Found by a README audit: the default TTL (one hour, as the README says) was held by no test.
  it('expires after one hour idle when given no TTL, not before', async () => {
    vi.useFakeTimers();
    try {
      runtime = await Runtime.start();
      const session = await runtime.session('hour');
      await session.defineVariable('x', 'integer', 1);
      // The idle sweep runs every second at this TTL: a second short of the hour and a sweep, it still lives.
      await vi.advanceTimersByTimeAsync(3_600_000 - 1000);
      expect(runtime.sessionIds()).toEqual(['hour']);
      expect(await session.getVariable('x')).toBe(1);
      // That read was a use: an hour idle from it, past a sweep, it is gone.
      await vi.advanceTimersByTimeAsync(3_600_000 + 1000);
      expect(runtime.sessionIds()).toEqual([]);
      await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('expires a watched session too, and its watch ends with it', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 60 });
    const session = await runtime.session('watched');
    await session.defineVariable('x', 'integer', 1);
    const heard: unknown[] = [];
    await session.watchVariables('*', (change) => heard.push(change.newValue));
    await waitFor(() => !runtime?.sessionIds().includes('watched'), { message: 'watched expired' });
    await expect(session.getVariable('x')).rejects.toMatchObject({ code: 'session_expired' });
    const fresh = await runtime.session('watched');
    expect(await fresh.hasVariable('x')).toBe(false);
    await fresh.defineVariable('x', 'integer', 2);
    await fresh.setVariable('x', 3);
    // A watch of the fresh session, registered after those writes, hears only what follows; the old one nothing.
    const after: unknown[] = [];
    await fresh.watchVariables('*', (change) => after.push(change.newValue));
    await fresh.setVariable('x', 4);
    await waitFor(() => after.length === 1);
    expect(after).toEqual([4]);
    expect(heard).toEqual([]);
  });

  it('counts reads as activity that postpones expiry', async () => {
    // Reads 100 ms apart for a second: past the TTL and the idle sweep after it (every quarter of the TTL). The sweep
    // reads the clock: a loaded machine that holds this process up for the TTL less the gap between reads expires the
    // session (with a TTL of 120 ms and reads 40 ms apart, a hold-up of 80 ms would); this TTL leaves 500 ms.
    runtime = await Runtime.start({ sessionTtlMs: 600 });
    const session = await runtime.session('busy');
    await session.defineVariable('x', 'integer', 1);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await session.getVariable('x')).toBe(1);
    }
  });

  it('refuses operations on a stopped session with session_stopped and keeps its variables', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('stop-me');
    await session.defineVariable('kept', 'string', 'yes');
    await session.stop();
    await expect(session.getVariable('kept')).rejects.toMatchObject({ code: 'session_stopped' });
    await expect(session.defineVariable('y', 'integer', 1)).rejects.toBeInstanceOf(SessionError);
    const again = await runtime.session('stop-me');
    expect(await again.getVariable('kept')).toBe('yes');
  });

  it('refuses sessions after the runtime stopped', async () => {
    runtime = await Runtime.start();
    const session = await runtime.session('r');
    await runtime.stop();
    await expect(session.getVariable('anything')).rejects.toMatchObject({ code: 'session_stopped' });
    await expect(runtime.session('r')).rejects.toThrow('stopped');
    // A session never opened is refused alike, naming the session asked for.
    await expect(runtime.session('never')).rejects.toMatchObject({
      code: 'session_stopped',
      message: "session 'never' stopped",
      details: { sessionId: 'never' },
    });
  });

  it('refuses an invalid session id', async () => {
    runtime = await Runtime.start();
    await expect(runtime.session('a.b')).rejects.toBeInstanceOf(ValidationError);
    await expect(runtime.session('with space')).rejects.toBeInstanceOf(ValidationError);
    await expect(runtime.session('')).rejects.toBeInstanceOf(ValidationError);
  });

  it('gives the caller an error when an actor throws, and keeps serving', async () => {
    const reported: unknown[] = [];
    runtime = await Runtime.start({ onError: (error) => reported.push(error) });
    const fragile = setup({}).createMachine({
      on: {
        boom: {
          actions: () => {
            throw new Error('kaboom');
          },
        },
      },
    });
    const session = await runtime.session('survivor');
    await session.defineVariable('x', 'integer', 1);
    const process = runtime.spawn(fragile, { name: 'fragile' });
    await expect(runtime.call(process, { type: 'boom' })).rejects.toBeInstanceOf(ProcessExitedError);
    expect(runtime.whereis('fragile')).toBeUndefined();
    expect(reported.some((e) => e instanceof Error && e.message === 'kaboom')).toBe(true);
    await session.setVariable('x', 2);
    expect(await session.getVariable('x')).toBe(2);
  });
});
