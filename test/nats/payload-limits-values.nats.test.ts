import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError } from '../../src/index.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { waitFor } from '../support/wait-for.js';
import { collectVariableEvents } from '../support/variable-event-collector.js';
import { usePayloadLimitFixture } from '../support/payload-limit-fixture.js';

const { fx, nc, maxPayload, limit, codec, valueLengthFor } = usePayloadLimitFixture();

describe('payload limits', () => {
  it('accepts a value at the limit and publishes its change, old and new value both that large', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('edge');
    const events = await collectVariableEvents(nc(), 'edge');
    const defined = await session.defineVariable('doc', 'string', '');
    const length = valueLengthFor(defined, limit());
    const first = 'a'.repeat(length);
    const second = 'b'.repeat(length);

    await session.setVariable('doc', first);
    const stored = await session.setVariable('doc', second);
    expect(codec.encode(stored).length).toBe(limit());
    await waitFor(() => events.events.length >= 3, { message: 'three events' });
    events.stop();

    const { oldValue, newValue, ...rest } = events.events[2]!;
    // Compared apart: a failing comparison of a long string prints all of it.
    expect([oldValue === first, newValue === second]).toEqual([true, true]);
    expect(rest).toEqual({
      sessionId: 'edge',
      name: 'doc',
      id: expect.any(String),
      incarnation: expect.any(String),
      type: 'string',
      version: 3,
      updatedBy: null,
      revision: expect.any(Number),
    });
  });

  it('keeps a variable at the limit lockable and unlockable, whatever the owner (events do not carry it)', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('locked');
    const defined = await session.defineVariable('doc', 'string', '');
    await session.setVariable('doc', 'a'.repeat(valueLengthFor(defined, limit())));
    const owner = 'owner-'.padEnd(256, 'ö');

    expect(await session.lockVariable('doc', owner)).toMatchObject({ lockedBy: owner, version: 2 });
    await expect(session.setVariable('doc', 'b', { updatedBy: 'someone' })).rejects.toMatchObject({
      code: 'variable_locked',
    });
    expect(await session.unlockVariable('doc', owner)).toMatchObject({ lockedBy: null, version: 2 });
  });

  it('refuses a value one byte over the limit with validation_failed, over the wire, and changes nothing', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('over');
    const events = await collectVariableEvents(nc(), 'over');
    const defined = await session.defineVariable('doc', 'string', 'kept');
    const tooLong = 'c'.repeat(valueLengthFor(defined, limit()) + 1);

    const refusal = await session.setVariable('doc', tooLong).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      variable: 'doc',
      details: { constraint: 'maxRecordBytes', size: limit() + 1, limit: limit() },
    });
    expect((refusal as Error).message).toContain(`variable 'doc' is ${limit() + 1} bytes encoded`);
    expect((refusal as Error).message).toContain(`limit of ${limit()} bytes`);
    expect(await session.describeVariable('doc')).toMatchObject({ value: 'kept', version: 1 });

    // A new variable that large is not created; an atomic batch holding it writes none of its values.
    await expect(session.defineVariable('big', 'string', tooLong)).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await session.hasVariable('big')).toBe(false);
    await session.defineVariable('small', 'integer', 1);
    await expect(session.setVariables({ small: 2, doc: tooLong }, { atomic: true })).rejects.toMatchObject({
      code: 'validation_failed',
      variable: 'doc',
    });
    expect(await session.getVariables(['small', 'doc'])).toEqual({ found: { small: 1, doc: 'kept' }, missing: [] });

    await nc().flush();
    events.stop();
    expect(events.events.map((event) => event.name)).toEqual(['doc', 'small']);
  });

  it('refuses a value over the limit on an embedded node the same way', async () => {
    const node = await fx().runtime(fx().buckets());
    const session = await node.session('embedded');
    await session.defineVariable('doc', 'string', 'kept');
    const refusal = await session.setVariable('doc', 'd'.repeat(limit())).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({ code: 'validation_failed', variable: 'doc', details: { limit: limit() } });
    expect(await session.getVariable('doc')).toBe('kept');
  });

  it('takes a lower maxRecordBytes, and refuses one the events could not carry', async () => {
    const buckets = fx().buckets();
    const nats = {
      servers: fx().server.url,
      variablesBucket: buckets.variablesBucket,
      sessionsBucket: buckets.sessionsBucket,
    };
    await expect(
      Runtime.start({ onError: () => {}, nats: { ...nats, maxRecordBytes: limit() + 1 } }),
    ).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringContaining(`from 1 to ${limit()}`) });
    const node = await Runtime.start({ onError: () => {}, nats: { ...nats, maxRecordBytes: 2048 } });
    try {
      const session = await node.session('lower');
      await session.defineVariable('doc', 'string', 'kept');
      await expect(session.setVariable('doc', 'd'.repeat(2048))).rejects.toMatchObject({
        code: 'validation_failed',
        details: { limit: 2048 },
      });
      await session.setVariable('doc', 'd'.repeat(1024));
    } finally {
      await node.stop();
    }
  });

  it('still publishes the change of a value stored before the limit applied, without its old value', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const session = await (await fx().client()).session('legacy');
    await session.defineVariable('doc', 'string', '');
    // Written straight to the bucket, as a node without the limit did: bigger than the limit, under max_payload.
    const raw = await createKvStore<VariableRecord>(nc(), { bucket: buckets.variablesBucket, codec });
    const entry = (await raw.get('legacy.doc'))!;
    const legacy = 'L'.repeat(maxPayload() - 2048);
    await raw.update('legacy.doc', { ...entry.value, value: legacy, version: 2 }, entry.revision);
    await raw.close();
    await waitFor(async () => (await session.getVariable('doc')) === legacy, { message: 'the legacy value' });
    const events = await collectVariableEvents(nc(), 'legacy');

    const next = 'n'.repeat(valueLengthFor(await session.describeVariable('doc'), limit()));
    await session.setVariable('doc', next);
    await waitFor(() => events.events.length === 1, { message: 'the event' });
    events.stop();
    const { newValue, ...rest } = events.events[0]!;
    // Compared apart: a failing comparison of a long string prints all of it.
    expect(newValue === next).toBe(true);
    expect(rest).toEqual({
      sessionId: 'legacy',
      name: 'doc',
      id: expect.any(String),
      incarnation: expect.any(String),
      type: 'string',
      version: 3,
      updatedBy: null,
      revision: expect.any(Number),
      oldValueOmitted: true,
    });
  });
});
