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

    // Deleted by another client: this one is told of the end.
    await (await (await fx().client()).session('gone')).delete();
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

  // Found by a review: a client deleting its own session had each of its watches and module listeners tell onError
  // (a stack trace each, by default), where an embedded session drops its watchers silently.
  it('stops the watches and module listeners of a session the client deletes itself without telling onError', async () => {
    await fx().node(fx().buckets());
    const told: unknown[] = [];
    const client = await fx().client({ onError: (error, where) => told.push([where, error]) });
    const session = await client.session('mine');
    await session.defineVariable('x', 'integer', 1);
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const heard: unknown[] = [];
    await session.watchVariables('*', (change) => heard.push(change));
    qa.onState((state) => heard.push(state));
    await waitFor(() => heard.length === 1, { message: "the module's first state" });

    await session.delete();
    // The id's next life, written through another client: nothing of it reaches the stopped listeners.
    const next = await (await fx().client()).session('mine');
    await next.defineVariable('x', 'integer', 2);
    await client.session('other');
    expect(heard).toEqual(['idle']);
    expect(told).toEqual([]);
  });
});
