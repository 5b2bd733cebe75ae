import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import { MAX_UPDATED_BY_HEADER_BYTES } from '../../src/nats/kv-updated-by.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { recordLimitFor } from '../../src/nats/record-codec.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';
import { collectVariableEvents } from '../support/variable-event-collector.js';

// The server's default max_payload (1 MiB): the record limit (522,240 bytes) is then above what a delete marker's
// header can hold, so the header's own limit is the one a delete meets.
const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A deleter's name whose `Tether-Updated-By` header value is exactly `bytes` long (quoted, `ë` as `\u00eb`). */
function deleterOfSize(bytes: number): string {
  return `Zoë${'u'.repeat(bytes - '"Zo\\u00eb"'.length)}`;
}

/** The longest session id and variable name: the longest key, which a replicated bucket's marker also carries. */
const SESSION = 's'.repeat(128);
const NAME = 'n'.repeat(128);

describe("a delete's updatedBy against the server's header limit", () => {
  it('refuses one byte over the marker limit with validation_failed, deleting nothing, and deletes at the limit', async () => {
    expect(recordLimitFor(nc().info!.max_payload)).toBeGreaterThan(MAX_UPDATED_BY_HEADER_BYTES);
    const buckets = fx().buckets();
    await fx().node(buckets);
    const session = await (await fx().client()).session(SESSION);
    const events = await collectVariableEvents(nc(), SESSION);
    await session.defineVariable(NAME, 'integer', 1);
    const key = `${SESSION}.${NAME}`;
    const sizes = { constraint: 'maxUpdatedByBytes', size: MAX_UPDATED_BY_HEADER_BYTES + 1, limit: 60_000 };

    // Over the server's own header limit (64 KiB), under the record limit: a client's mistake, not a server fault.
    const huge = await rawReply(
      nc(),
      `tether.v1.session.${SESSION}.var.delete`,
      JSON.stringify({ name: NAME, updatedBy: 'x'.repeat(70_000) }),
    );
    expect(huge.body.error).toMatchObject({ code: 'validation_failed', details: { key, size: 70_002 } });

    const over = deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES + 1);
    const reply = await rawReply(
      nc(),
      `tether.v1.session.${SESSION}.var.delete`,
      JSON.stringify({ name: NAME, updatedBy: over }),
    );
    expect(reply.errorCode).toBe('400');
    expect(reply.body.error).toMatchObject({ code: 'validation_failed', details: { key, ...sizes } });
    expect((reply.body.error as { message: string }).message).toContain(
      `is 60001 bytes encoded, over this node's limit of 60000 bytes, the most a delete marker's header may hold`,
    );
    await expect(session.deleteVariable(NAME, { updatedBy: over })).rejects.toBeInstanceOf(ValidationError);
    expect(await session.describeVariable(NAME)).toMatchObject({ value: 1, version: 1 });

    const atLimit = deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES);
    await session.deleteVariable(NAME, { updatedBy: atLimit });
    expect(await session.hasVariable(NAME)).toBe(false);
    await waitFor(() => events.events.length >= 2, { message: 'the definition and the deletion' });
    events.stop();
    expect(events.events[1]!.updatedBy === atLimit).toBe(true);
    const jsm = await nc().jetstreamManager();
    const marker = await jsm.streams.getMessage(`KV_${buckets.variablesBucket}`, {
      last_by_subj: `$KV.${buckets.variablesBucket}.${key}`,
    });
    expect(marker.header.get('Tether-Updated-By').length).toBe(MAX_UPDATED_BY_HEADER_BYTES);
  });

  it("holds in a commit of several writes, whose markers carry the commit's headers too, and in a plain KV store", async () => {
    const buckets = fx().buckets();
    const node = await fx().node(buckets);
    const local = await node.runtime.session(SESSION);
    await local.defineVariable(NAME, 'integer', 1);
    await local.defineVariable('other', 'integer', 1);
    const store = await createNodeStore(nc(), { bucket: buckets.variablesBucket, onListenerError: () => {} });
    const plain = await createKvStore<number>(nc(), { bucket: `${buckets.variablesBucket}_plain` });
    try {
      const key = `${SESSION}.${NAME}`;
      const doc = (await store.get(key))!;
      const other = (await store.get(`${SESSION}.other`))!;
      const commit = (updatedBy: string): Promise<number[]> =>
        store.commit([
          { operation: 'delete', key: `${SESSION}.other`, expectedRevision: other.revision },
          { operation: 'delete', key, expectedRevision: doc.revision, updatedBy },
        ]);
      await expect(commit(deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES + 1))).rejects.toMatchObject({
        code: 'validation_failed',
        details: { key, size: MAX_UPDATED_BY_HEADER_BYTES + 1, limit: MAX_UPDATED_BY_HEADER_BYTES },
      });
      expect(await store.lastChange!(`${SESSION}.other`)).toMatchObject({ operation: 'put', revision: other.revision });
      const [, revision] = await commit(deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES));
      expect(await store.lastChange!(key)).toMatchObject({ operation: 'delete', revision });

      // Without a node's record limit, the header's limit still applies, with the same refusal.
      await plain.create('k', 1);
      const refusal = await plain
        .delete('k', undefined, { updatedBy: deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES + 1) })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ValidationError);
      expect((refusal as Error).message).toContain('over the limit of 60000 bytes');
      expect(await plain.get('k')).toMatchObject({ value: 1 });
      await plain.delete('k', undefined, { updatedBy: deleterOfSize(MAX_UPDATED_BY_HEADER_BYTES) });
      expect(await plain.get('k')).toBeUndefined();
    } finally {
      await store.close();
      await plain.close();
    }
  });
});
