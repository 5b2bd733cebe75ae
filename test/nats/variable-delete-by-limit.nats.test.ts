import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { recordLimitFor, variableRecordCodec } from '../../src/nats/record-codec.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';
import { collectVariableEvents } from '../support/variable-event-collector.js';

// A small max_payload keeps the sizes small; they are read from the server, so NATS_URL works too.
const fx = useNatsFixture({ maxPayload: 64 * 1024 });
const nc = usePlainConnection(fx);

/** The node's record limit, which a delete's `updatedBy` shares. */
const limit = (): number => recordLimitFor(nc().info!.max_payload);

/**
 * A deleter's name whose `Tether-Updated-By` header value is exactly `bytes` long: the header escapes `ë` as
 * `\u00eb` (6 bytes where UTF-8 takes 2) and the newline as `\n`, and quotes the whole.
 */
function deleterOfSize(bytes: number): string {
  return `Zoë\n${'u'.repeat(bytes - '"Zo\\u00eb\\n"'.length)}`;
}

describe("the size of a delete's updatedBy on a NATS node", () => {
  it('refuses one byte over the record limit and accepts exactly the limit, whose event reaches a plain subscriber', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const session = await (await fx().client()).session('edge');
    const events = await collectVariableEvents(nc(), 'edge');
    // The old value at the record limit too: the delete's event carries both, and must still fit.
    const defined = await session.defineVariable('doc', 'string', '');
    const codec = variableRecordCodec();
    const length = limit() - codec.encode({ ...defined, value: '', version: 2 }).length;
    const stored = await session.setVariable('doc', 'a'.repeat(length));
    expect(codec.encode(stored).length).toBe(limit());

    const over = deleterOfSize(limit() + 1);
    const refusal = await session.deleteVariable('doc', { updatedBy: over }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      variable: 'doc',
      details: { key: 'edge.doc', constraint: 'maxUpdatedByBytes', size: limit() + 1, limit: limit() },
    });
    expect((refusal as Error).message).toContain(
      `the updatedBy of the delete of 'edge.doc' is ${limit() + 1} bytes encoded, over this node's limit of ${limit()} bytes`,
    );
    const kept = await session.describeVariable('doc');
    expect([kept.value === stored.value, kept.version]).toEqual([true, 2]);

    const atLimit = deleterOfSize(limit());
    await session.deleteVariable('doc', { updatedBy: atLimit });
    expect(await session.hasVariable('doc')).toBe(false);
    await waitFor(() => events.events.length >= 3, { message: 'the definition, the write and the deletion' });
    events.stop();
    const { oldValue, updatedBy, ...rest } = events.events[2]!;
    // Compared apart: a failing comparison of a long string prints all of it.
    expect([oldValue === stored.value, updatedBy === atLimit]).toEqual([true, true]);
    expect(rest).toMatchObject({ name: 'doc', version: 3, deleted: true });

    const jsm = await nc().jetstreamManager();
    const marker = await jsm.streams.getMessage(`KV_${buckets.variablesBucket}`, {
      last_by_subj: `$KV.${buckets.variablesBucket}.edge.doc`,
    });
    expect(marker.header.get('Tether-Updated-By').length).toBe(limit());
  });

  it('refuses it on the node, over the wire, and in a store delete or commit, writing nothing, and keeps serving', async () => {
    const buckets = fx().buckets();
    const node = await fx().node(buckets);
    const local = await node.runtime.session('paths');
    const events = await collectVariableEvents(nc(), 'paths');
    await local.defineVariable('doc', 'string', 'kept');
    await local.defineVariable('n', 'integer', 1);
    const over = deleterOfSize(limit() + 1);
    const sizes = { constraint: 'maxUpdatedByBytes', size: limit() + 1, limit: limit() };

    await expect(local.deleteVariable('doc', { updatedBy: over })).rejects.toMatchObject({
      code: 'validation_failed',
      variable: 'doc',
      details: { key: 'paths.doc', variable: 'doc', ...sizes },
    });
    const reply = await rawReply(
      nc(),
      'tether.v1.session.paths.var.delete',
      JSON.stringify({ name: 'doc', updatedBy: over }),
    );
    expect(reply.errorCode).toBe('400');
    expect(reply.body.error).toMatchObject({ code: 'validation_failed', details: { key: 'paths.doc', ...sizes } });

    // The node's store itself, as a node opens it: a plain delete, and a commit whose put comes first.
    const store = await createNodeStore(nc(), { bucket: buckets.variablesBucket, onListenerError: () => {} });
    try {
      const doc = (await store.get('paths.doc'))!;
      const n = (await store.get('paths.n'))!;
      await expect(store.delete('paths.doc', doc.revision, { updatedBy: over })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        store.commit([
          {
            operation: 'put',
            key: 'paths.n',
            value: { ...n.value, value: 2, version: 2 },
            expectedRevision: n.revision,
          },
          { operation: 'delete', key: 'paths.doc', expectedRevision: doc.revision, updatedBy: over },
        ]),
      ).rejects.toMatchObject({ code: 'validation_failed', details: { key: 'paths.doc', ...sizes } });
      expect(await store.lastChange!('paths.doc')).toMatchObject({ operation: 'put', revision: doc.revision });
      expect(await store.lastChange!('paths.n')).toMatchObject({ operation: 'put', revision: n.revision });
    } finally {
      await store.close();
    }

    expect(await local.describeVariable('doc')).toMatchObject({ value: 'kept', version: 1 });
    expect(await local.getVariable('n')).toBe(1);
    const client = await (await fx().client()).session('paths');
    await client.deleteVariable('doc', { updatedBy: 'ops' });
    expect(await local.hasVariable('doc')).toBe(false);
    await waitFor(() => events.events.length >= 3, { message: 'two definitions and one deletion' });
    await nc().flush();
    events.stop();
    expect(events.events.map((event) => [event.name, event.updatedBy, event.deleted ?? false])).toEqual([
      ['doc', null, false],
      ['n', null, false],
      ['doc', 'ops', true],
    ]);
  });
});
