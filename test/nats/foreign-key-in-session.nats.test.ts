import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { storedOfSession } from '../support/session-storage.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/**
 * Found by a review: a message under a session's keys whose subject is no store key (`k1.bad:key`, which any NATS client
 * may publish) made the session fail to load on every node that had not loaded it yet (`internal_error: invalid key`),
 * and made the session impossible to delete.
 */
describe('a message under a session whose subject is no store key', () => {
  it('is left out of its session, told to onError naming its key, and the session is served and deleted', async () => {
    const buckets = fx().buckets();
    const toldA: string[] = [];
    const toldB: string[] = [];
    const tell = (told: string[]) => (error: unknown) => told.push((error as Error).message);
    const a = await fx().runtime(buckets, { onError: tell(toldA) });
    await (await a.session('k1')).defineVariable('good', 'integer', 1);
    // ':' is fine in a subject, not in a key.
    await nc().jetstream().publish(`$KV.${buckets.variablesBucket}.k1.bad:key`, enc.encode('{"x":1}'));
    await waitFor(
      () => toldA.some((message) => /store key 'k1\.bad:key' cannot be read: it is no store key/.test(message)),
      {
        message: 'the node that had the session loaded told, naming the key',
      },
    );

    const b = await fx().runtime(buckets, { onError: tell(toldB) });
    const onB = await b.session('k1');
    expect((await onB.listVariables()).map((record) => record.name)).toEqual(['good']);
    expect(await onB.setVariable('good', 2)).toMatchObject({ value: 2, version: 2 });
    expect(toldB.join('\n')).toMatch(/store key 'k1\.bad:key' under 'k1\.' cannot be read: it is no store key/);

    const client = await fx().client();
    const remote = await client.session('k1', { create: false });
    expect(await remote.getVariable('good')).toBe(2);
    await remote.delete();
    expect(await storedOfSession(nc(), buckets, 'k1')).toMatchObject({ variables: 0 });
  });
});
