import { describe, expect, it } from 'vitest';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { incarnationOf } from '../../src/nats/session-record.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);

describe('createSessionDirectory', () => {
  it("stamps nothing when the id was deleted and opened again: the next life is not the stamped use's", async () => {
    const directory = await createSessionDirectory(plain(), { bucket: fx().buckets().sessionsBucket });
    await directory.open('s1');
    const known = (await directory.read('s1'))!;
    expect(await directory.removeAt('s1', known.revision)).toBe(true);
    const next = await directory.open('s1');
    const nextRecord = await directory.read('s1');
    expect(incarnationOf(nextRecord!.record)).toBe(next);

    // A use of the first life, told later than anything the next life has seen.
    const stamped = await directory.stamp(known, Date.now() + 60_000, 1_000);

    expect(stamped).toBeUndefined();
    expect(await directory.read('s1')).toEqual(nextRecord);
  });
});
