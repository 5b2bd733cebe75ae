import { describe, expect, it } from 'vitest';
import type { RemoteSession } from '../../src/nats/remote-session.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/** Starts `count` watches of `session`, keeping neither their listeners nor their unwatch: only the handle may. */
async function watchesOf(session: RemoteSession, count: number): Promise<WeakRef<object>[]> {
  const listeners: WeakRef<object>[] = [];
  for (let i = 0; i < count; i += 1) {
    const listener = (): void => {};
    await session.watchVariables('*', listener);
    listeners.push(new WeakRef(listener));
  }
  return listeners;
}

describe('remote watch end', () => {
  it('lets a watch that ended with its session go while the handle that started it lives on', async () => {
    await fx().node(fx().buckets());
    // The codes alone: an error kept with its stack unread holds the functions it was made in, the watch's among them.
    const told: unknown[] = [];
    const client = await fx().client({ onError: (error) => told.push((error as { code?: unknown }).code) });
    const session = await client.session('gone');
    await session.defineVariable('x', 'integer', 1);
    const listeners = await watchesOf(session, 3);

    await session.delete();
    await waitFor(() => told.filter((code) => code === 'session_not_found').length === 3, {
      message: 'every watch heard the session end',
    });
    // WeakRef targets stay until the current job ends: collect on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();

    expect(listeners.map((listener) => listener.deref())).toEqual([undefined, undefined, undefined]);
    // The handle is still held, and stops as before.
    await expect(session.stop()).resolves.toBeUndefined();
  });
});
