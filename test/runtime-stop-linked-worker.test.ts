/**
 * Found by a review. README (Processes): "Your processes all go before the runtime's own sessions and modules, which they use ...: a
 * worker never sees its session stopped under it", and runtime.stop() stops "the sessions, each through its own
 * `stop`: a write in flight finishes (and its caller hears so) before the process exits". A user worker linked to its
 * session's process (as Elixir code links a worker to the server it uses; see the linked-crash test) was stopped
 * first with 'shutdown', which travelled along the link and killed the session process outright: its own stop never
 * ran, and the write it was carrying out was cut off (session_stopped, outcome unknown) instead of finishing.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { Runtime, createMemoryStore, type Store, type VariableRecord } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

/** `store`, its writes held while `held` is set, each released when it is cleared. */
function gatedStore(store: Store<VariableRecord>) {
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let waiting = 0;
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (key === 'commit' || key === 'update' || key === 'create') {
        return async (...args: unknown[]) => {
          if (gate) {
            waiting++;
            await gate;
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return {
    store: proxy,
    hold: () => void (gate = new Promise<void>((resolve) => (release = resolve))),
    release: () => {
      gate = undefined;
      release?.();
    },
    get waiting() {
      return waiting;
    },
  };
}

async function stopWithWriteInFlight(linked: boolean) {
  const gated = gatedStore(createMemoryStore());
  const errors: string[] = [];
  const runtime = await Runtime.start({ store: gated.store, onError: (e, where) => errors.push(`${where}: ${e}`) });
  const session = await runtime.session('app');
  await session.defineVariable('n', 'integer', 0);
  if (linked) {
    const worker = runtime.spawn(createMachine({}), { name: 'worker' });
    runtime.link(worker, runtime.whereis('tether.session.app')!);
  }
  gated.hold();
  const write = session.setVariable('n', 1).then(
    () => 'written',
    (error: { code?: string; details?: unknown }) => ({ code: error.code, details: error.details }),
  );
  await waitFor(() => gated.waiting > 0, { message: 'the write reaches the store' });
  const stopping = runtime.stop();
  await new Promise((resolve) => setTimeout(resolve, 30));
  gated.release();
  await stopping;
  return { write: await write, errors };
}

describe('runtime.stop() with a write in flight', () => {
  it('finishes the write (control: no worker linked to the session)', async () => {
    expect(await stopWithWriteInFlight(false)).toEqual({ write: 'written', errors: [] });
  });

  it('finishes the write when a worker of the user is linked to the session process', async () => {
    // Was: { write: { code: 'session_stopped', details: { outcome: 'unknown' } } }: the worker's stop went
    // first and its 'shutdown' took the session process down along the link, before the session's own stop.
    expect(await stopWithWriteInFlight(true)).toEqual({ write: 'written', errors: [] });
  });
});
