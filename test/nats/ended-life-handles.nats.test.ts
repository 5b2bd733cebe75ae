/**
 * A handle bound to a life that ended (expired, or deleted) is refused, and its refused requests are no use of the
 * id's current life: a forgotten handle still polled does not keep an abandoned next life from expiring. Found by a
 * review: the node opened the id's current session before comparing lives (a use), and remembered only the last
 * ended life of an id, so an older one's handle woke whatever life was current.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
/** P = 100 ms: an idle session expires 500 to 700 ms after its last use. */
const TTL = { sessionTtlMs: 400, llm: createEchoModel() };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The incarnation the sessions bucket holds for `id` now; `undefined` when there is no record. */
async function lifeInBucket(buckets: TestBuckets, id: string): Promise<string | undefined> {
  const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
  const entry = await kv.get(id);
  return entry && entry.operation === 'PUT' ? entry.json<{ incarnation: string }>().incarnation : undefined;
}

/** Reads `x` through `handle` every 50 ms for 3 s; the codes the reads settled with. */
async function pollFor3s(handle: { getVariable(name: string): Promise<unknown> }): Promise<unknown[]> {
  const codes = new Set<unknown>();
  for (const until = Date.now() + 3000; Date.now() < until; await sleep(50)) {
    codes.add(await settledCode(handle.getVariable('x')));
  }
  return [...codes];
}

describe('a handle of an ended life', () => {
  it('remote: its refused requests do not keep the next, idle life of the id from expiring', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets, TTL);
    await fx().runtime(buckets, TTL);
    const forgetful = await fx().client();
    const old = await forgetful.session('s');
    await old.defineVariable('x', 'integer', 1);
    await waitFor(async () => (await storedOfSession(nc(), buckets, 's')).record === 0, {
      timeout: 10_000,
      message: 'the first life expired',
    });

    // Another user opens the id again, writes once, and abandons it.
    const next = await (await fx().client()).session('s');
    await next.defineVariable('y', 'integer', 2);
    const nextLife = next.incarnation!;

    // The first client keeps polling its old handle, each time refused.
    expect(await pollFor3s(old)).toEqual(['session_expired']);

    // Nobody used the next life for 3 s, six times its 500-700 ms expiry: it must be gone.
    expect(await lifeInBucket(buckets, 's')).not.toBe(nextLife);
  });

  it('embedded: after two ended lives of the id, a handle of the first still hears it expired and wakes nothing', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, TTL);
    const client = await fx().client();
    const old = await a.session('e');
    await old.defineVariable('x', 'integer', 1);
    await waitFor(async () => (await storedOfSession(nc(), buckets, 'e')).record === 0, {
      timeout: 10_000,
      message: 'the first life expired',
    });
    // A second life, deleted; then a third, abandoned.
    await (await client.session('e')).delete();
    const third = await client.session('e');
    await third.defineVariable('y', 'integer', 3);
    const thirdLife = third.incarnation!;

    const codes = await pollFor3s(old);
    // Node A heard the first life expire: its handle should keep saying so, and wake nothing.
    expect({ codes, thirdAlive: (await lifeInBucket(buckets, 'e')) === thirdLife }).toEqual({
      codes: ['session_expired'],
      thirdAlive: false,
    });
  });

  // Found by an audit of the JSDoc: a node's own handle whose process had hibernated before its life expired read
  // `session_expired` but deleted with `session_not_found`, where a client's handle and an awake one said expired.
  it('answers delete() with session_expired as every other call, on a node and from a client', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, TTL);
    const onNode = await node.session('d1');
    await onNode.defineVariable('x', 'integer', 1);
    const remote = await (await fx().client()).session('d2');
    await remote.defineVariable('x', 'integer', 1);
    for (const id of ['d1', 'd2'])
      await waitFor(async () => (await storedOfSession(nc(), buckets, id)).record === 0, {
        timeout: 10_000,
        message: `the life of ${id} expired`,
      });
    for (const handle of [onNode, remote]) {
      expect(await settledCode(handle.getVariable('x'))).toBe('session_expired');
      expect(await settledCode(handle.delete())).toBe('session_expired');
    }
    expect(await lifeInBucket(buckets, 'd1')).toBeUndefined();
    expect(await lifeInBucket(buckets, 'd2')).toBeUndefined();
  });
});
