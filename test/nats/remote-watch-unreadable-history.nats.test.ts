import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/**
 * Found by a review: one message in a variable's kept history that is no record (put around Tether, then put right by
 * an operator) made the node's `history` fail whole with `internal_error`, which a remote watch catching up through
 * that history retried for ever: every later change of the session was held, and nobody was told.
 */
describe('a variable history that keeps a message that is no record', () => {
  it('is read without it, told to onError, and a remote watch catching up through it goes on', async () => {
    const buckets = fx().buckets();
    const toldNode: string[] = [];
    await fx().runtime(buckets, { onError: (error) => toldNode.push((error as Error).message) });
    const toldClient: unknown[] = [];
    const client = await fx().client({ onError: (error: unknown) => toldClient.push(error) });
    const session = await client.session('w1');
    await session.defineVariable('x', 'integer', 1);
    await session.defineVariable('y', 'integer', 1);
    const seen: string[] = [];
    await session.watchVariables('*', (change) => seen.push(`${change.name}=${String(change.newValue)}`));

    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const record = (await kv.get('w1.x'))!.json<Record<string, unknown>>();
    await kv.put('w1.x', enc.encode('garbage'));
    // Put right with version 2, which publishes no event: the next event of x skips it.
    await kv.put('w1.x', enc.encode(JSON.stringify({ ...record, value: 2, version: 2 })));
    await waitFor(async () => (await session.describeVariable('x')).version === 2, {
      message: "the node's view has x's version 2",
    });

    await session.setVariable('x', 3);
    await session.setVariable('y', 2);
    await waitFor(() => seen.includes('y=2'), { message: `y's change delivered (seen: ${JSON.stringify(seen)})` });
    expect(seen).toEqual(['x=2', 'x=3', 'y=2']);
    expect((await session.variableHistory('x')).map((entry) => entry.value)).toEqual([1, 2, 3]);
    expect(toldNode.join('\n')).toMatch(/store key 'w1\.x' .*cannot be read.*left out of its history/);
    expect(toldClient).toEqual([]);
  });
});
