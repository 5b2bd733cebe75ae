import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Nothing but nodes may write the sessions bucket. Found by a review: a value put there by something else (not JSON,
 * `null`) failed the id with a bare SyntaxError or TypeError (no code, naming nothing), even its deletion, and `{}` was
 * listed while `session(id)` said `session_not_found`, whether asked to create it or not.
 */
describe('a value in the sessions bucket that is no session record', () => {
  it('stands for no session: not found, told to onError naming the key, and the id can be opened', async () => {
    const buckets = fx().buckets();
    const told: string[] = [];
    const node = await fx().runtime(buckets, { onError: (error) => told.push((error as Error).message) });
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    await kv.put('junk1', enc.encode('not json'));
    await kv.put('null1', enc.encode('null'));

    expect(await settledCode(node.session('junk1', { create: false }))).toBe('session_not_found');
    expect(await settledCode(node.session('null1', { create: false }))).toBe('session_not_found');
    const where = `sessions bucket '${buckets.sessionsBucket}'`;
    await waitFor(() => told.some((message) => message.includes(`${where} key 'junk1'`)), { message: 'junk1 told' });
    await waitFor(() => told.some((message) => message.includes(`${where} key 'null1'`)), { message: 'null1 told' });
    expect((await node.listSessions()).ids).toEqual([]);

    // Opening writes a record over it; the session is then an ordinary one.
    const session = await node.session('junk1');
    await session.defineVariable('n', 'integer', 1);
    expect((await node.listSessions()).ids).toEqual(['junk1']);
    const client = await fx().client();
    expect(await (await client.session('junk1', { create: false })).getVariable('n')).toBe(1);
    expect(JSON.parse(dec.decode((await kv.get('junk1'))!.value))).toMatchObject({ incarnation: expect.any(String) });
  });

  it('is removed by a deletion of the id, which says the session was not found', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    await kv.put('null1', enc.encode('null'));
    const client = await fx().client();
    const handle = await client.session('null1', { create: false });
    expect(await settledCode(handle.delete())).toBe('session_not_found');
    expect((await kv.get('null1'))?.operation).not.toBe('PUT');
  });

  it('holding an empty object, is neither listed nor found, and session(id) creates the session', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets);
    const kv = await nc().jetstream().views.kv(buckets.sessionsBucket);
    await kv.put('empty1', enc.encode('{}'));
    expect((await node.listSessions()).ids).toEqual([]);
    expect(await settledCode(node.session('empty1', { create: false }))).toBe('session_not_found');
    expect(await settledCode(node.session('empty1'))).toBe('resolved');
    expect((await node.listSessions()).ids).toEqual(['empty1']);
  });
});
