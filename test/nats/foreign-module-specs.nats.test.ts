import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/**
 * Nothing but nodes may write the modules bucket. Found by a review: one value there that was not JSON failed the
 * listing of every module of its session, and a request for that module, with a bare "Unexpected token" naming
 * neither the module nor the key.
 */
describe('a value in the modules bucket that is neither spec nor claim', () => {
  it('is left out of the listing of its session, told to onError naming the key', async () => {
    const buckets = fx().buckets();
    const told: string[] = [];
    await fx().runtime(buckets, { onError: (error) => told.push((error as Error).message) });
    const session = await (await fx().client()).session('m1');
    await session.module('qa', spec);
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    await kv.put('m1.junk', enc.encode('not json'));
    await kv.put('m1.nothing', enc.encode('null'));

    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['qa']);
    const where = `modules bucket '${buckets.modulesBucket}' key`;
    await waitFor(() => told.some((message) => message.includes(`${where} 'm1.junk'`)), { message: 'junk told' });
    await waitFor(() => told.some((message) => message.includes(`${where} 'm1.nothing'`)), { message: 'null told' });
  });

  it('fails a request for its module with an internal_error naming the module and the key', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const session = await (await fx().client()).session('m2');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    await kv.put('m2.junk', enc.encode('not json'));
    const error = await session.module('junk').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ code: 'internal_error', message: expect.stringContaining("module 'junk'") });
    expect((error as Error).message).toContain("key 'm2.junk'");
  });

  it('fails a request for a module whose claim names no node as unreadable, not as a module gone with its node', async () => {
    const buckets = fx().buckets();
    const told: string[] = [];
    await fx().runtime(buckets, { onError: (error) => told.push((error as Error).message) });
    const session = await (await fx().client()).session('m4');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    await kv.put('m4.nameless', enc.encode(JSON.stringify({ nodeLocal: true, claimedAt: new Date(0).toISOString() })));

    const error = await session.module('nameless').then(
      () => undefined,
      (failure: unknown) => failure,
    );

    expect(error).toMatchObject({ code: 'internal_error', message: expect.stringContaining("key 'm4.nameless'") });
    expect((error as Error).message).toContain('a claim naming no node');
    await waitFor(() => told.some((message) => message.includes("'m4.nameless'")), { message: 'the claim told' });
  });

  it('gives its id to a creation, which writes over it', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const session = await (await fx().client()).session('m3');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    await kv.put('m3.junk', enc.encode('not json'));
    await kv.put('m3.nothing', enc.encode('null'));
    await session.module('junk', spec);
    await session.module('nothing', spec);
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['junk', 'nothing']);
  });
});
