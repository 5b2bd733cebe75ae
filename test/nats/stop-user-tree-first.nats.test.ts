/**
 * Found by a review: `runtime.stop()` on a NATS node with a user supervision tree that uses the node's sessions. README: "`runtime.stop()`
 * goes through the tree as OTP's shutdown does: a supervised process is stopped by its supervisor, in its order ...,
 * the rest newest first." A session's process is a process of the runtime like any other (`tether.session.<id>`), so
 * a supervisor started after it, and the workers that use it, go first, as OTP stops an application's dependents
 * before what they depend on. The node stops every session first instead, and a worker still using its session in its
 * last moments crashes with `session_stopped`, told to `onError` as a crash at every clean shutdown.
 */
import { describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import { Runtime, Supervisor } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * A worker that writes its session, one write after another, for as long as it runs; what its session answered it
 * while it was still running goes to `refused` (it then waits to be stopped rather than crash).
 */
function counter(runtime: Runtime, sessionId: string, refused: string[]) {
  return setup({
    actors: {
      bump: fromPromise(async () => {
        const session = await runtime.session(sessionId);
        await session.updateVariable('ticks', (n) => (n as number) + 1);
        // A pause: embedded, a write settles in microtasks, and a loop of them would starve the test's timers.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }),
    },
  }).createMachine({
    initial: 'bumping',
    states: {
      bumping: {
        invoke: {
          src: 'bump',
          onDone: { target: 'bumping', reenter: true },
          onError: {
            target: 'refused',
            actions: ({ event }) => refused.push((event.error as { code?: string }).code ?? String(event.error)),
          },
        },
      },
      refused: {},
    },
  });
}

/** Stops `runtime` while a supervised worker uses its session, and checks what went down in which order. */
async function stopWhileTreeUsesSession(runtime: Runtime, errors: readonly string[]): Promise<void> {
  const session = await runtime.session('app');
  await session.defineVariable('ticks', 'integer', 0);
  const sessionProcess = runtime.whereis('tether.session.app')!;
  const refused: string[] = [];

  // The application's tree, started once its session is open: it depends on it.
  const app = Supervisor.start(runtime, {
    name: 'app',
    children: [{ id: 'counter', start: () => ({ logic: counter(runtime, 'app', refused), name: 'counter' }) }],
  });
  const downs: string[] = [];
  runtime.monitor(sessionProcess, () => downs.push('session'));
  runtime.monitor(app.ref, () => downs.push('app'));
  runtime.monitor('counter', () => downs.push('counter'));
  // Working: the counter has written a few times.
  await waitFor(async () => ((await session.getVariable('ticks')) as number) >= 3, { timeout: 3000 });

  await runtime.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));

  // Newest first: the tree (its worker first), then the session it used. Was: the session first.
  expect(downs).toEqual(['counter', 'app', 'session']);
  // Its session was never taken from under the worker while the worker ran, and nothing crashed.
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
}

describe('runtime.stop() with a user supervisor using a session', () => {
  it('on a NATS node, stops the supervisor started after the session before the session', async () => {
    const errors: string[] = [];
    const runtime = await fx().runtime(fx().buckets(), {
      onError: (error, where) => errors.push(`${where}: ${error}`),
    });
    await stopWhileTreeUsesSession(runtime, errors);
  });

  it('embedded, alike', async () => {
    const errors: string[] = [];
    const runtime = await Runtime.start({ onError: (error, where) => errors.push(`${where}: ${error}`) });
    await stopWhileTreeUsesSession(runtime, errors);
  });
});
