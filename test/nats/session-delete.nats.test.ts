import { headers } from 'nats';
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { SessionError, ValidationError } from '../../src/errors.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import type { TestBuckets } from '../support/tether-node.js';
import { settledCode } from '../support/settled-code.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const echo = { llm: createEchoModel() };
const QA = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** How many messages each bucket's stream holds for the session (its record's, in the sessions bucket). */
const kept = (buckets: TestBuckets, sessionId: string) => storedOfSession(nc(), buckets, sessionId);

/** The error code of a raw request's reply, as any NATS client reads it. */
async function rawErrorCode(subject: string, body: object): Promise<unknown> {
  const reply = await nc().request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: 5000 });
  return reply.json<{ error?: { code?: unknown } }>().error?.code;
}

describe('deleting a session on NATS nodes', () => {
  it('removes its variables with their history, its specs, its record and its processes on every node', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, echo);
    const b = await fx().runtime(buckets, echo);
    const client = await fx().client();
    const remote = await client.session('doomed');
    await remote.defineVariable('temperature', 'float', 0.1);
    for (const value of [0.2, 0.3, 0.4]) await remote.setVariable('temperature', value);
    await remote.defineVariable('gone', 'string', 'x');
    await remote.deleteVariable('gone');
    await remote.module('qa', QA);
    await client.session('bystander').then((other) => other.defineVariable('kept', 'integer', 1));
    // Both nodes run the session and its module, with embedded handles held on each.
    const onA = await a.session('doomed');
    const onB = await b.session('doomed');
    const modules = await Promise.all([onA.module('qa'), onB.module('qa')]);
    await Promise.all(modules.map((module) => module.execute({ question: 'warm?' })));
    const watched: unknown[] = [];
    await onB.watchVariables('*', (change) => watched.push(change));
    expect(await kept(buckets, 'doomed')).toEqual({ variables: 6, modules: 1, record: 1 });

    await remote.delete();

    // Nothing of it is kept: no value, no history, no marker, no spec, no record. Only the record's tombstone (an
    // empty marker) stays until a scan sweeps after the nodes that heard late (see the tests below).
    expect(await kept(buckets, 'doomed')).toEqual({ variables: 0, modules: 0, record: 1 });
    for (const node of [a, b]) {
      expect(node.sessionIds()).not.toContain('doomed');
      expect(node.whereis(moduleProcessName('doomed', 'qa'))).toBeUndefined();
    }
    for (const handle of [onA, onB]) {
      const error = await handle.getVariable('temperature').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionError);
      expect(error).toMatchObject({ code: 'session_not_found', sessionId: 'doomed' });
    }
    expect(await settledCode(modules[1]!.execute({ question: 'still?' }))).toBe('session_not_found');
    expect(await settledCode(remote.getVariable('temperature'))).toBe('session_not_found');
    expect(await settledCode(remote.delete())).toBe('session_not_found');
    // Another session is untouched.
    expect(await (await client.session('bystander', { create: false })).getVariable('kept')).toBe(1);

    // Opened again, it is a new, empty session; writes to it do not reach the old handles' watchers.
    const reopened = await client.session('doomed');
    expect(await reopened.listVariables()).toEqual([]);
    expect(await reopened.modules()).toEqual([]);
    expect(await reopened.defineVariable('temperature', 'float', 0.9)).toMatchObject({ version: 1 });
    expect((await reopened.variableHistory('temperature')).map((entry) => entry.value)).toEqual([0.9]);
    expect(await settledCode(onA.getVariable('temperature'))).toBe('session_not_found');
    expect(watched).toEqual([]);
  });

  it("never lets a remote handle or watch of a deleted session reach the id's next life", async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await fx().runtime(buckets);
    const told: unknown[] = [];
    const alice = await fx().client({ onError: (error) => told.push(error) });
    const bob = await fx().client();
    const old = await alice.session('s');
    await old.defineVariable('x', 'integer', 1);
    const heard: unknown[][] = [];
    await old.watchVariables('*', (change) => heard.push([change.oldValue, change.newValue]));

    // Deleted by Bob: the end of a session Alice deletes herself is no news to her.
    await (await bob.session('s')).delete();
    // The watch ends with the session, as an embedded session's watchers are dropped, and the client is told.
    await waitFor(() => told.some((error) => (error as { code?: unknown }).code === 'session_not_found'), {
      message: 'the watch heard the session end',
    });
    const mine = await bob.session('s');
    await mine.defineVariable('secret', 'string', 'bob-private');
    await mine.setVariable('secret', 'still-private');

    // Alice's handle of the old life reads, writes and deletes nothing of Bob's session, whichever node answers.
    for (let i = 0; i < 4; i += 1) {
      expect(await settledCode(old.getVariable('secret'))).toBe('session_not_found');
      expect(await settledCode(old.listVariables())).toBe('session_not_found');
      expect(await settledCode(old.defineVariable('y', 'integer', 1))).toBe('session_not_found');
      expect(await settledCode(old.delete())).toBe('session_not_found');
    }
    expect(await settledCode(old.watchVariables('*', () => {}))).toBe('session_not_found');
    // Found by a review: the error said the session was not found, though it was there, in another life.
    const h = headers();
    h.set('Tether-Incarnation', old.incarnation!);
    const read = await nc().request('tether.v1.session.s.var.get', new TextEncoder().encode('{"name":"secret"}'), {
      timeout: 5000,
      headers: h,
    });
    expect(read.json<{ error: unknown }>().error).toMatchObject({
      code: 'session_not_found',
      message:
        `session 's' not found in the life the request names ('${old.incarnation}', Tether-Incarnation): ` +
        'that life is over, or never was',
      details: { sessionId: 's', incarnation: old.incarnation },
    });
    expect((await mine.listVariables()).map((record) => record.name)).toEqual(['secret']);
    // A write of Bob's after Alice's last request has had its event delivered to every subscriber by now.
    await (await alice.session('s', { create: false })).getVariable('secret');
    expect(heard).toEqual([]);
    // A handle opened now is of the new life.
    expect(await (await alice.session('s')).getVariable('secret')).toBe('still-private');
  });

  it('refuses to delete a session that does not exist, and bad ids, changing nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const client = await fx().client();
    await (await client.session('here')).defineVariable('x', 'integer', 1);

    const error = await (await client.session('never', { create: false })).delete().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_not_found', message: "session 'never' not found" });
    await expect(client.session('a b', { create: false })).rejects.toBeInstanceOf(ValidationError);
    expect(await rawErrorCode('tether.v1.session.*.delete', {})).toBe('validation_failed');
    expect(await rawErrorCode('tether.v1.session.here.delete', { force: true })).toBe('validation_failed');

    expect(await (await client.session('here', { create: false })).getVariable('x')).toBe(1);
    expect(await kept(buckets, 'never')).toEqual({ variables: 0, modules: 0, record: 0 });
  });

  it('leaves no write that raced the deletion for the id opened again to see', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets);
    const b = await fx().runtime(buckets);
    const client = await fx().client();
    await client.session('raced');
    // Writers on both nodes keep defining new variables until the session is gone under them.
    const writers = [a, b].map(async (node, n) => {
      const session = await node.session('raced');
      for (let i = 0; ; i += 1) {
        try {
          await session.defineVariable(`v${n}_${i}`, 'integer', i);
        } catch (error) {
          return (error as { code?: unknown }).code;
        }
      }
    });
    await (await client.session('raced', { create: false })).getVariable('v0_3', { default: 0 });
    while ((await (await client.session('raced', { create: false })).listVariables()).length < 20) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    await (await client.session('raced', { create: false })).delete();

    expect(await Promise.all(writers)).toEqual(['session_not_found', 'session_not_found']);
    expect(await kept(buckets, 'raced')).toEqual({ variables: 0, modules: 0, record: 1 });
    expect(await (await client.session('raced')).listVariables()).toEqual([]);
  });

  it('checks the record when a node wakes a session it was not told is gone, and opening again sweeps', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets);
    const client = await fx().client();
    const remote = await client.session('ghost');
    await remote.defineVariable('x', 'integer', 1);
    await (await node.session('ghost')).stop();
    // What a node cut off during a deletion is left with: it still takes the session for existing, while its
    // record is gone (here removed behind its back) and a variable of the old life is still in the bucket.
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    await kv.purge('ghost');

    expect(await settledCode(remote.getVariable('x'))).toBe('session_not_found');
    expect(node.sessionIds()).not.toContain('ghost');
    // Opening the id again purges what the old life left: the new session is empty.
    const again = await client.session('ghost');
    expect(await again.listVariables()).toEqual([]);
    expect(await again.hasVariable('x')).toBe(false);
  });

  it('finishes a deletion cut short: a retried delete purges what is left, and a scan removes the tombstone', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const client = await fx().client();
    const remote = await client.session('cut');
    await remote.defineVariable('x', 'integer', 1);
    await remote.setVariable('x', 2);
    // What a deletion cut short after its first step leaves (its node died, or a purge failed): the record's
    // removal marker, and the variables with their history.
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    await kv.purge('cut');
    expect(await kept(buckets, 'cut')).toEqual({ variables: 2, modules: 0, record: 1 });

    // Deleting again says it is not found (it was gone before), and finishes the removal all the same.
    expect(await rawErrorCode('tether.v1.session.cut.delete', {})).toBe('session_not_found');
    expect(await kept(buckets, 'cut')).toEqual({ variables: 0, modules: 0, record: 1 });

    // Without a retry, a node's scan finishes it once past its grace, and then the tombstone goes too.
    await fx().runtime(buckets, { sessionTtlMs: 400 });
    const left = await client.session('left');
    await left.defineVariable('y', 'integer', 1);
    await kv.purge('left');
    await waitFor(async () => (await kept(buckets, 'left')).record === 0, { timeout: 10_000, message: 'swept' });
    expect(await kept(buckets, 'left')).toEqual({ variables: 0, modules: 0, record: 0 });
    expect(await kept(buckets, 'cut')).toEqual({ variables: 0, modules: 0, record: 0 });
  });

  it('says so when a stream refuses to remove what the deletion leaves (deny_delete set on a running bucket)', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const client = await fx().client();
    const remote = await client.session('kept');
    await remote.defineVariable('x', 'integer', 1);
    const manager = await nc().jetstreamManager();
    const stream = `KV_${buckets.variablesBucket}`;
    await manager.streams.update(stream, { ...(await manager.streams.info(stream)).config, deny_delete: true });

    // The session is gone, but its variable's purge marker stays: the deletion does not say it is done.
    const error = await remote.delete().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'internal_error',
      message: expect.stringMatching(
        `^compacting session 'kept' in bucket '${buckets.variablesBucket}' failed: stream '${stream}' refused to ` +
          'delete its message \\d+: message delete not permitted$',
      ),
    });
    expect(await settledCode(remote.getVariable('x'))).toBe('session_not_found');
    // The record's tombstone stays, so that a node's scan tries again (telling its onError of each sweep it fails).
    expect(await kept(buckets, 'kept')).toEqual({ variables: 1, modules: 0, record: 1 });
  });

  it('purges the writes of a node that heard of the deletion late, once a scan finds the removal past its grace', async () => {
    const buckets = fx().buckets();
    // Node B hears of the session's end only when the test lets it. Nor does it notice by its stamp meanwhile:
    // with the default TTL of an hour, the nodes stamp and scan every quarter of an hour.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.endsWith('.session.end'));
    try {
      const a = await fx().runtime(buckets);
      const b = await fx().runtime(buckets, { servers: proxy.url });
      const client = await fx().client();
      await client.session('late');
      proxy.hold();
      let deleted = false;
      let afterDelete = 0;
      const writer = (async () => {
        const session = await b.session('late');
        for (let i = 0; ; i += 1) {
          try {
            await session.defineVariable(`v${i}`, 'integer', i);
            if (deleted) afterDelete += 1;
          } catch (error) {
            return (error as { code?: unknown }).code;
          }
        }
      })();
      while ((await kept(buckets, 'late')).variables < 10) await new Promise((resolve) => setTimeout(resolve, 5));

      // Deleted on node A, which waits only for the nodes that answer in time.
      await (await a.session('late')).delete();
      deleted = true;

      // B goes on writing after the deletion resolved (it has not heard): those writes are acknowledged, and they
      // are still there once B has heard, as the deletion's purges were over.
      await waitFor(() => afterDelete > 0, { message: 'a write of B acknowledged after the deletion' });
      proxy.release();
      expect(await writer).toBe('session_not_found');
      expect((await kept(buckets, 'late')).variables).toBeGreaterThan(0);
      // A node whose scan finds the tombstone past its grace (twice a quarter of its TTL) purges them.
      await fx().runtime(buckets, { sessionTtlMs: 400 });
      await waitFor(async () => (await kept(buckets, 'late')).record === 0, { timeout: 10_000, message: 'swept' });
      expect(await kept(buckets, 'late')).toEqual({ variables: 0, modules: 0, record: 0 });
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  });

  it('resolves once the nodes that answer have ended their processes, however late they heard', async () => {
    const buckets = fx().buckets();
    // The only node hears of the end (its own message) 300 ms late: the deletion waits for its answer.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.endsWith('.session.end'));
    try {
      const node = await fx().runtime(buckets, { servers: proxy.url });
      proxy.lag(300);
      const session = await node.session('awaited');
      await session.defineVariable('x', 'integer', 1);

      await session.delete();

      expect(node.sessionIds()).not.toContain('awaited');
      expect(await settledCode(session.getVariable('x'))).toBe('session_not_found');
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  });

  it('purges, before it resolves, the writes of a node that heard a moment late', async () => {
    const buckets = fx().buckets();
    // Node B hears of the end 80 ms late, and the deleting node does not wait for it: B's last writes land after
    // the first purge has listed the keys.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.endsWith('.session.end'));
    try {
      const a = await fx().runtime(buckets);
      const b = await fx().runtime(buckets, { servers: proxy.url });
      proxy.lag(80);
      const onB = await b.session('moment');
      const writer = (async () => {
        for (let i = 0; ; i += 1) {
          try {
            await onB.defineVariable(`v${i}`, 'integer', i);
          } catch (error) {
            return (error as { code?: unknown }).code;
          }
        }
      })();
      while ((await kept(buckets, 'moment')).variables < 10) await new Promise((resolve) => setTimeout(resolve, 5));

      await (await a.session('moment')).delete();

      expect(await kept(buckets, 'moment')).toEqual({ variables: 0, modules: 0, record: 1 });
      expect(await writer).toBe('session_not_found');
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  });
});
