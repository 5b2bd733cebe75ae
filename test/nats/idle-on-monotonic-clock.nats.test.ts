/**
 * Found by a review: idle hibernation on a NATS node (a session idle for `hibernateAfterMs`, a user process spawned with
 * `hibernateAfter`) was timed on the wall clock (`Date.now`). A system clock stepped back (NTP correcting a clock that
 * ran ahead, a VM resumed) keeps every session and process of the node awake for as long as the step, however idle.
 * The restart intensity reads the monotonic clock for exactly this reason (src/runtime/restart-intensity.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMachine } from 'xstate';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

afterEach(() => {
  vi.useRealTimers();
});

describe('idle hibernation on a NATS node when the system clock is stepped back', () => {
  it('still lets an idle session and an idle user process hibernate after their idle time', async () => {
    // Only the wall clock is faked, and it runs at real speed: timers, sockets and the monotonic clock are real.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const runtime = await fx().runtime(fx().buckets(), { hibernateAfterMs: 50 });
    const session = await runtime.session('idle');
    await session.defineVariable('n', 'integer', 0);
    const worker = runtime.spawn(createMachine({ on: { ping: {} } }), { name: 'worker', hibernateAfter: 50 });
    // Both go idle as they should, on a clock that runs straight.
    await waitFor(() => !runtime.sessionIds().includes('idle') && worker.hibernating, { timeout: 3000 });
    await session.getVariable('n');
    runtime.cast(worker, { type: 'ping' });
    expect(runtime.sessionIds()).toContain('idle');
    expect(worker.hibernating).toBe(false);

    // NTP steps the clock back an hour.
    vi.setSystemTime(Date.now() - 3_600_000);

    // 50 ms idle is still 50 ms idle: both hibernate within a few sweeps, not an hour later.
    await waitFor(() => !runtime.sessionIds().includes('idle'), {
      timeout: 3000,
      message: 'the idle session hibernates',
    });
    await waitFor(() => worker.hibernating, { timeout: 3000, message: 'the idle user process hibernates' });
  });
});
