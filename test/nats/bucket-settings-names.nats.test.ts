/**
 * The names a node gives its buckets and queue: bucket or queue names nats.js cannot take, two options naming one
 * bucket, and the default buckets named after the subject prefix; each refused before connecting, creating no bucket.
 */
import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../../src/index.js';
import { useBucketSettingsFixture } from '../support/bucket-settings-fixture.js';

const { server, nextCount, names, bucketExists } = useBucketSettingsFixture();

describe('node bucket and queue names', () => {
  it('refuses a node bucket or queue name nats.js cannot take before connecting, creating no bucket', async () => {
    for (const [option, bad] of [
      ['modulesBucket', 'a.b'],
      ['modulesBucket', 'z*'],
      ['sessionsBucket', 'a b'],
      ['queue', '>'],
      ['queue', 'a b'],
      // Found by a review: the server refused a stream name over 255 characters as an internal error, and a far
      // longer one dropped the connection.
      ['variablesBucket', 'v'.repeat(253)],
      ['queue', 'q'.repeat(253)],
    ] as const) {
      const { bucket, sessionsBucket, modulesBucket } = names();
      const given = { variablesBucket: bucket, sessionsBucket, modulesBucket, [option]: bad };
      const error = await Runtime.start({ onError: () => {}, nats: { servers: server().url, ...given } }).catch(
        (e: unknown) => e,
      );
      expect(error, `${option} ${bad}`).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toBe(
        `${option} must be a name of 1 to 252 letters, digits, '_' and '-', got ${JSON.stringify(bad.slice(0, 60))}`,
      );
      for (const name of [bucket, sessionsBucket, modulesBucket]) expect(await bucketExists(name)).toBe(false);
    }
  });

  it('refuses two bucket options naming one bucket, a default included, before connecting, creating no bucket', async () => {
    const { bucket, sessionsBucket } = names();
    for (const [given, message] of [
      [
        { variablesBucket: bucket, sessionsBucket: bucket, modulesBucket: sessionsBucket },
        `variablesBucket and sessionsBucket both name bucket '${bucket}': each needs a bucket of its own`,
      ],
      [
        { variablesBucket: bucket, sessionsBucket, modulesBucket: bucket },
        `variablesBucket and modulesBucket both name bucket '${bucket}': each needs a bucket of its own`,
      ],
      // Left out, the modules bucket is tether_modules.
      [
        { variablesBucket: bucket, sessionsBucket: 'tether_modules' },
        "sessionsBucket and modulesBucket both name bucket 'tether_modules': each needs a bucket of its own",
      ],
    ] as const) {
      const error = await Runtime.start({ onError: () => {}, nats: { servers: server().url, ...given } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message, details: { constraint: 'distinct' } });
      for (const name of [bucket, sessionsBucket, 'tether_modules']) expect(await bucketExists(name)).toBe(false);
    }
  });

  it("names a node's default buckets after its prefix, so that nodes of two prefixes never share them", async () => {
    const count = nextCount();
    const prefix = `acme.staging${count}`;
    const node = await Runtime.start({ onError: () => {}, nats: { servers: server().url, prefix } });
    try {
      for (const role of ['vars', 'sessions', 'modules'])
        expect(await bucketExists(`acme_staging${count}_${role}`), role).toBe(true);
    } finally {
      await node.stop();
    }
    // A bad prefix is refused before connecting: no bucket is made of it.
    const error = await Runtime.start({ onError: () => {}, nats: { servers: server().url, prefix: 'a b' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^invalid subject prefix 'a b'/);
    expect(await bucketExists('a b_vars')).toBe(false);
  });

  it('refuses a prefix too long for a default bucket name before connecting, and takes it with the buckets named', async () => {
    // Found by a review: `<prefix>_vars` (250 characters) was created, and the start then failed on `<prefix>_sessions`.
    const prefix = 'p'.repeat(245);
    const error = await Runtime.start({ onError: () => {}, nats: { servers: server().url, prefix } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ details: { option: 'prefix', constraint: 'name', bucketOption: 'sessionsBucket' } });
    expect((error as Error).message).toBe(
      "prefix is too long for the default sessionsBucket, '<prefix>_sessions', which takes 1 to 252 letters, digits, " +
        "'_' and '-': give a shorter prefix, or name that bucket",
    );
    expect(await bucketExists(`${prefix}_vars`)).toBe(false);

    // It is a subject prefix a node can have once its buckets have names of their own.
    const { bucket: variablesBucket, sessionsBucket, modulesBucket } = names();
    const buckets = { variablesBucket, sessionsBucket, modulesBucket };
    const node = await Runtime.start({ onError: () => {}, nats: { servers: server().url, prefix, ...buckets } });
    await node.stop();
  });
});
