import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** `nats stream purge KV_<bucket> --subject '$KV.<bucket>.<session>.<name>'`: the key's messages go, no marker is left. */
describe('a variable whose messages a stream purge took from outside', () => {
  // Found by a review: the node that had the session loaded kept serving the variable, and a write to it gave up
  // with version_conflict "kept changing under the write" after 10 attempts, though nobody wrote it.
  it('is refused as not found by the node that held it, and its name can be defined again', async () => {
    const buckets = fx().buckets();
    const session = await (await fx().runtime(buckets)).session('p1');
    await session.defineVariable('z', 'integer', 1);
    const jsm = await nc().jetstreamManager();
    await jsm.streams.purge(`KV_${buckets.variablesBucket}`, { filter: `$KV.${buckets.variablesBucket}.p1.z` });

    expect(await settledCode(session.setVariable('z', 2))).toBe('variable_not_found');
    expect(await session.hasVariable('z')).toBe(false);
    expect(await session.defineVariable('z', 'integer', 7)).toMatchObject({ value: 7, version: 1 });
    expect(await session.setVariable('z', 8)).toMatchObject({ value: 8, version: 2 });
  });
});
