/**
 * A bucket made beforehand with a value limit (`nats stream edit KV_<bucket> --max-msg-size`, the stream's `max_msg_size`) below
 * what a node would store: the node takes the operator's limit as its own. Its record limit comes down to what one
 * message of the variables bucket holds (less room for a lock owner, headers and a batch's mark), so a write over it
 * is refused up front as `validation_failed`, as one over the node's own limit is; the modules bucket's spec limit
 * comes down the same way; a bucket too small for any record is refused at start with `bucket_config_mismatch`.
 */
import { describe, expect, it } from 'vitest';
import { BucketConfigMismatchError, ValidationError } from '../../src/index.js';
import { RECORD_ROOM_BYTES } from '../../src/nats/bucket-value-room.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Which of `buckets` have a stream on the server: a start refused before creating any leaves each at `none`. */
async function streamsOf(buckets: readonly string[]): Promise<Record<string, 'made' | 'none'>> {
  const streams = (await nc().jetstreamManager()).streams;
  const entries = await Promise.all(
    buckets.map(async (bucket) => [
      bucket,
      await streams.info(`KV_${bucket}`).then(
        () => 'made' as const,
        () => 'none' as const,
      ),
    ]),
  );
  return Object.fromEntries(entries);
}

/** Makes `bucket` as an operator would, with `maxValueSize` (and the history a node would give it). */
async function operatorBucket(bucket: string, maxValueSize: number, history = 64): Promise<void> {
  await nc().jetstream().views.kv(bucket, { history, maxValueSize });
}

describe('a bucket made beforehand with a max value size', () => {
  it("lowers the node's record limit to the variables bucket's and refuses a write over it as validation_failed", async () => {
    const buckets = fx().buckets();
    const maxValueSize = 8192;
    await operatorBucket(buckets.variablesBucket, maxValueSize);
    const node = await fx().node(buckets);
    // The README's figure: a lock owner, the write's headers and a batch's mark.
    const limit = maxValueSize - 2242;
    const session = await node.runtime.session('s');
    await session.defineVariable('note', 'string', 'short');

    const refused = await session.setVariable('note', 'x'.repeat(limit)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({
      code: 'validation_failed',
      variable: 'note',
      details: { constraint: 'maxRecordBytes', limit },
    });
    expect((refused as Error).message).toMatch(
      new RegExp(`^variable 'note' is \\d+ bytes encoded, over this node's limit of ${limit} bytes per variable`),
    );
    expect((refused as Error).message).toContain(`KV bucket '${buckets.variablesBucket}' takes messages of at most`);
    expect(await session.getVariable('note')).toBe('short');

    // Records exactly as big as the limit: stored alone, in an atomic batch (each value then carries the batch's
    // mark), and locked by an owner of the longest kind, each character a JSON escape (the limit does not count it).
    const { size } = (refused as ValidationError).details as { size: number };
    const fits = 'y'.repeat(limit - (size - limit));
    await session.setVariable('note', fits);
    await session.defineVariable('memo', 'string', 'short');
    const again = `${fits.slice(1)}z`;
    await session.setVariables({ note: again, memo: fits }, { atomic: true });
    // One byte more is refused.
    await expect(session.setVariable('memo', `${fits}y`)).rejects.toMatchObject({ code: 'validation_failed' });
    await session.lockVariable('note', '\u0001'.repeat(256));
    await session.lockVariable('memo', '\u0001'.repeat(256));
    expect(await session.getVariables(['note', 'memo'])).toMatchObject({ found: { note: again, memo: fits } });
  }, 30_000);

  it('refuses to start on a variables bucket whose max value size leaves no room for a record', async () => {
    const buckets = fx().buckets();
    await operatorBucket(buckets.variablesBucket, 1024);
    const error = await fx()
      .node(buckets, { onError: () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({
      code: 'bucket_config_mismatch',
      bucket: buckets.variablesBucket,
      setting: 'maxValueSize',
      configured: RECORD_ROOM_BYTES + 1,
      actual: 1024,
    });
    expect((error as Error).message).toContain(
      `KV bucket '${buckets.variablesBucket}' exists with maxValueSize 1024 bytes, below the ${RECORD_ROOM_BYTES + 1}`,
    );
  });

  it('refuses to start on a sessions bucket whose max value size would not hold a session record', async () => {
    const buckets = fx().buckets();
    await operatorBucket(buckets.sessionsBucket, 256, 1);
    const error = await fx()
      .node(buckets, { onError: () => {} })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'bucket_config_mismatch',
      bucket: buckets.sessionsBucket,
      setting: 'maxValueSize',
      actual: 256,
    });
    // Judged before any bucket was created: the refused start made none of the others.
    expect(await streamsOf([buckets.variablesBucket, buckets.modulesBucket])).toEqual({
      [buckets.variablesBucket]: 'none',
      [buckets.modulesBucket]: 'none',
    });
  });

  // Found by mutation: the modules bucket's room could go unjudged before the other buckets were created, with every
  // test passing; its own open refused it then, after making the variables and sessions buckets.
  it('refuses to start on a modules bucket too small for any spec, creating neither of the others', async () => {
    const buckets = fx().buckets();
    await operatorBucket(buckets.modulesBucket, 1024, 1);
    const error = await fx()
      .node(buckets, { onError: () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({ bucket: buckets.modulesBucket, setting: 'maxValueSize', actual: 1024 });
    expect(await streamsOf([buckets.variablesBucket, buckets.sessionsBucket])).toEqual({
      [buckets.variablesBucket]: 'none',
      [buckets.sessionsBucket]: 'none',
    });
  });

  it("lowers the modules bucket's spec limit to its max value size, refusing a longer spec as validation_failed", async () => {
    const buckets = fx().buckets();
    await operatorBucket(buckets.modulesBucket, 4096, 1);
    await fx().node(buckets);
    const session = await (await fx().client()).session('specs');
    const spec = { type: 'Predict', signature: 'question -> answer', instructions: 'i'.repeat(3500) };
    const refusal = await session.module('big', spec).catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      details: { field: 'spec', constraint: 'maxBytes', moduleId: 'big', limit: 4096 - 1024 },
    });
    expect((refusal as Error).message).toContain("the bucket's max value size less its headers");
    await session.module('big', { ...spec, instructions: 'short' });
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['big']);
  });

  // The README's figures, spelled out: the constants could change with every test above still passing.
  it.each([
    ['variablesBucket', 2242, 64],
    ['sessionsBucket', 1023, 1],
    ['modulesBucket', 1024, 1],
  ] as const)('refuses a %s of %i bytes, one less than its least', async (which, maxValueSize, history) => {
    const buckets = fx().buckets();
    await operatorBucket(buckets[which], maxValueSize, history);
    const error = await fx()
      .node(buckets, { onError: () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketConfigMismatchError);
    expect(error).toMatchObject({
      bucket: buckets[which],
      setting: 'maxValueSize',
      configured: maxValueSize + 1,
      actual: maxValueSize,
    });
  });

  it('takes buckets at their least sizes: a session of the longest id opens and is deleted, records fit in 1 byte', async () => {
    const buckets = fx().buckets();
    await operatorBucket(buckets.variablesBucket, 2243);
    await operatorBucket(buckets.sessionsBucket, 1024, 1);
    await operatorBucket(buckets.modulesBucket, 1025, 1);
    await fx().node(buckets);
    const session = await (await fx().client()).session('s'.repeat(128));
    await expect(session.defineVariable('n', 'integer', 1)).rejects.toMatchObject({
      code: 'validation_failed',
      details: { constraint: 'maxRecordBytes', limit: 1 },
    });
    await session.delete();
  });
});
