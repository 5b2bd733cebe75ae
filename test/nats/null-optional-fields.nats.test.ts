/**
 * A client whose JSON writer puts `null` for an optional field it has no value for (Python's `None`, a Go pointer
 * without `omitempty`), or that sends back the `updatedBy: null` and `reason: null` a record carries, is served as
 * if it had left the field out. Until this file every such request was refused with `validation_failed` ("field
 * 'updatedBy' must be a string, got null"). A required field sent as `null` is still refused, and `null` stays a value
 * in `value` and inside object fields.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const session = 'tether.v1.session.nulls';

/** Sends `body` to `subject` raw and returns its result, failing with the error reply when there is one. */
async function served(subject: string, body: object): Promise<any> {
  const reply = await rawReply(nc(), subject, JSON.stringify(body));
  expect(reply.body.error, `${subject} ${JSON.stringify(body)}`).toBeUndefined();
  return reply.body.result;
}

/** Sends `body` raw and returns the error it is refused with, under the status `status`. */
async function refused(subject: string, body: object, status = '400'): Promise<any> {
  const reply = await rawReply(nc(), subject, JSON.stringify(body));
  expect(reply.errorCode, `${subject} ${JSON.stringify(body)}`).toBe(status);
  return reply.body.error;
}

const variable = (operation: string) => `${session}.var.${operation}`;

describe('null in an optional request field (raw NATS client)', () => {
  it('is read as left out by every variable operation', async () => {
    await fx().node(fx().buckets());
    await served(`${session}.open`, {});
    const defined = await served(variable('define'), {
      name: 't',
      type: 'float',
      value: 0.5,
      options: null,
      tagged: null,
    });
    expect(defined).toMatchObject({ name: 't', value: 0.5, version: 1, constraints: {}, description: '' });

    // What the record carries, sent back as read.
    const read = await served(variable('describe'), { name: 't', fresh: null });
    expect(read).toMatchObject({ updatedBy: null, reason: null });
    const set = await served(variable('set'), {
      name: 't',
      value: 0.7,
      expectedVersion: null,
      expectedId: null,
      updatedBy: read.updatedBy,
      reason: read.reason,
    });
    expect(set).toMatchObject({ value: 0.7, version: 2, updatedBy: null, reason: null });

    const outcomes = await served(variable('setMany'), {
      values: { t: 0.9 },
      atomic: null,
      updatedBy: null,
      reason: null,
    });
    expect(outcomes).toEqual({ t: { ok: true, version: 3 } });
    // Without `after` or `limit` (both null), the whole list as a plain array, not a page.
    expect(await served(variable('list'), { pattern: null, after: null, limit: null })).toEqual([
      expect.objectContaining({ name: 't', value: 0.9, version: 3 }),
    ]);
    const history = await served(variable('history'), { name: 't', limit: null, after: null });
    expect(history.entries.map((entry: { version: number }) => entry.version)).toEqual([1, 2, 3]);
    expect(history).not.toHaveProperty('next');

    expect(await served(variable('rollback'), { name: 't', version: 1, updatedBy: null })).toMatchObject({
      value: 0.5,
      version: 4,
      updatedBy: null,
    });
    const exported = await served(variable('export'), {});
    // `replace` null is its default, false: the existing name refuses the whole import.
    expect(await refused(variable('import'), { records: exported, replace: null }, '409')).toMatchObject({
      code: 'already_exists',
    });
    expect(await served(variable('delete'), { name: 't', updatedBy: null })).toBe(true);
    expect(await served(variable('import'), { records: exported, replace: null, updatedBy: null })).toBe(1);
    expect(await served(`tether.v1.sessions.list`, { after: null, limit: null })).toEqual({ ids: ['nulls'] });
  });

  it('is read as left out by the module operations', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    await served(`${session}.open`, {});
    const spec = { type: 'Predict', signature: 'question:string -> answer:string' };
    await served(`${session}.module.qa.create`, { spec });
    const result = await served(`${session}.module.qa.execute`, {
      inputs: { question: 'why?' },
      executionId: null,
      timeoutMs: null,
    });
    // A generated id, as for a request that named none.
    expect(result.executionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await served(`${session}.module.qa.cancel`, { executionId: 'gone', reason: null })).toEqual({
      cancelled: false,
    });
    expect(await served(`${session}.module.list`, { after: null, limit: null, specs: null })).toEqual([
      { moduleId: 'qa', spec: expect.objectContaining(spec) },
    ]);
  });

  it('is still refused in a required field, and stays a value in value and inside object fields', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    await served(`${session}.open`, {});
    await served(variable('define'), { name: 't', type: 'float', value: 0.5 });
    expect(await refused(variable('get'), { name: null })).toMatchObject({
      code: 'validation_failed',
      message: "field 'name' must be a string, got null",
    });
    expect(await refused(variable('rollback'), { name: 't', version: null })).toMatchObject({
      code: 'validation_failed',
    });
    // `null` as the value of a float is judged as a value, and refused as one.
    expect(await refused(variable('set'), { name: 't', value: null })).toMatchObject({
      code: 'validation_failed',
      details: { variable: 't' },
    });
    expect(
      await refused(variable('define'), { name: 'u', type: 'float', value: 1, options: { description: null } }),
    ).toMatchObject({ code: 'validation_failed', message: 'u: option description must be a string, got null' });
    const spec = { type: 'Predict', signature: 'question:string -> answer:string', temperature: null };
    expect((await refused(`${session}.module.qa.create`, { spec })).message).toContain("'temperature'");
    // Nothing was written by any of them.
    expect(await served(variable('list'), {})).toEqual([expect.objectContaining({ name: 't', version: 1 })]);
    expect(await served(`${session}.module.list`, {})).toEqual([]);
  });
});
