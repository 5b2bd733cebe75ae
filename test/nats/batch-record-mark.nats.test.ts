/**
 * The README (Stores) and docs/protocol.md tell readers of the variables bucket that are not Tether: a record written by
 * a batch of several writes (a `setVariables` of several names, atomic or not, or an import) starts with one more
 * field, `~tc`, and a single write's record has none. Found in an audit: only the mark's unit tests held it, not what
 * a node puts in the bucket.
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** The first field of the record of `key` as the bucket holds it, and the rest of the record. */
async function rawRecord(bucket: string, key: string): Promise<{ first: string; record: Record<string, unknown> }> {
  const kv = await nc().jetstream().views.kv(bucket);
  const entry = await kv.get(key);
  const record = JSON.parse(entry!.string()) as Record<string, unknown>;
  return { first: Object.keys(record)[0]!, record };
}

describe('the records a batch writes to the variables bucket', () => {
  it('start with a ~tc field naming the batch and its size; a single write has none', async () => {
    const buckets = fx().buckets();
    const runtime = await fx().runtime(buckets);
    const session = await runtime.session('marks');
    await session.defineVariable('a', 'integer', 0);
    await session.defineVariable('b', 'integer', 0);
    await session.defineVariable('c', 'integer', 0);
    const bucket = buckets.variablesBucket;
    const tc = async (name: string): Promise<unknown> => {
      const { first, record } = await rawRecord(bucket, `marks.${name}`);
      return first === '~tc' ? record['~tc'] : undefined;
    };
    const mark = (writes: number) => expect.stringMatching(new RegExp(`^w:[^:]+:${writes}$`));

    await session.setVariable('a', 1);
    expect(await tc('a')).toBeUndefined();

    await session.setVariables({ a: 2, b: 2 }, { atomic: true });
    expect([await tc('a'), await tc('b')]).toEqual([mark(2), mark(2)]);
    // One batch: the same mark on both.
    expect(await tc('a')).toBe(await tc('b'));

    await session.setVariables({ b: 3, c: 3 });
    expect([await tc('b'), await tc('c')]).toEqual([mark(2), mark(2)]);

    const exported = await session.exportVariables();
    const other = await runtime.session('marks2');
    await other.importVariables(exported);
    const imported = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => (await rawRecord(bucket, `marks2.${name}`)).first),
    );
    expect(imported).toEqual(['~tc', '~tc', '~tc']);

    // Reads through Tether never show it.
    expect(await session.describeVariable('b')).not.toHaveProperty('~tc');
    expect(await session.getVariable('b')).toBe(3);
  });
});
