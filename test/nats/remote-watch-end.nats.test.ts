import { describe, expect, it, onTestFinished } from 'vitest';
import { SessionError } from '../../src/errors.js';
import type { RemoteSession } from '../../src/nats/remote-session.js';
import { RemoteTransport } from '../../src/nats/remote-transport.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

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

  it('tells onError which watch and which module listener stopped, with the SessionError naming the session', async () => {
    await fx().node(fx().buckets());
    const told: [string, unknown][] = [];
    const client = await fx().client({ onError: (error, where) => told.push([where, error]) });
    const session = await client.session('ended');
    await session.defineVariable('x', 'integer', 1);
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    await session.watchVariables('*', () => {});
    qa.onState(() => {});

    await (await (await fx().client()).session('ended')).delete();
    await waitFor(() => told.length === 2, { message: 'the watch and the listener told of the end' });
    expect(told.map(([where]) => where).sort()).toEqual([
      'listener of module qa of session ended: the session ended, it stopped',
      'watcher of session ended: the session ended, the watch stopped',
    ]);
    for (const [where, error] of told) {
      expect(error, where).toBeInstanceOf(SessionError);
      expect(error, where).toMatchObject({ code: 'session_not_found', sessionId: 'ended' });
      expect((error as Error).message, where).toContain("session 'ended'");
    }
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

  // Found by a review of that fix: an end another client caused while this client's own delete was on its way (and
  // failed, finding the session gone) was silenced too.
  it("still tells onError of an end another client caused while this client's own delete failed", async () => {
    await fx().node(fx().buckets());
    // Alice's delete is held on its way to the node while Bob's goes through: hers then fails, finding the session
    // gone, every time (left to the server's order, Alice's won all 20 tries of an earlier version of this test).
    const subjects = createSubjects();
    const deletes = subjects.deleteSession('raced');
    const proxy = await startHoldingProxy(fx().server.url, (subject) => subject === deletes);
    onTestFinished(() => proxy.close());
    const told: unknown[] = [];
    const alice = await fx().client({
      servers: proxy.url,
      onError: (error) => told.push((error as { code?: unknown }).code),
    });
    const mine = await alice.session('raced');
    await mine.defineVariable('x', 'integer', 1);
    await mine.watchVariables('*', () => {});
    proxy.hold();
    const aliceDeletes = mine.delete().then(
      () => 'deleted',
      (error: unknown) => (error as { code?: unknown }).code,
    );
    // The session's end as a plain subscriber hears it, as Alice's client does.
    const ends = nc().subscribe(subjects.sessionEvent('raced'), { max: 1 });
    await nc().flush();
    await (await fx().client()).session('raced').then((bobs) => bobs.delete());
    for await (const _end of ends) break;
    await nc().flush();
    // The end reached Alice's watch while her own delete was still on its way: held, not told yet.
    expect(told).toEqual([]);
    proxy.release();
    expect(await aliceDeletes).toBe('session_not_found');
    // Her delete failed: the end was another client's doing, and her watch's end is news to her.
    await waitFor(() => told.length > 0, { message: "the watch's end told" });
    expect(told).toEqual(['session_not_found']);
  });

  it('holds the reports of ends while its own delete is on its way: dropped once it went through, told if it failed', async () => {
    const reported: [unknown, string][] = [];
    const transport = new RemoteTransport(
      nc(),
      createSubjects(),
      5_000,
      (error, where) => void reported.push([error, where]),
    );
    const ended = new SessionError('session_not_found', 's');
    transport.reportEnd('s', ended, 'not deleting');
    const deleted = transport.deleting('s');
    transport.reportEnd('s', ended, 'own delete');
    deleted(true);
    const failed = transport.deleting('s');
    transport.reportEnd('s', ended, 'delete that failed');
    // Another session's end is not held.
    transport.reportEnd('other', ended, 'other session');
    failed(false);
    expect(reported.map(([, where]) => where)).toEqual(['not deleting', 'other session', 'delete that failed']);
  });
});
