import { describe, expect, it } from 'vitest';
import { tagRequest } from '../../src/nats/tagged-values.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { storedOfSession } from '../support/session-storage.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A raw request to session `sid`'s `operation`, the body as given: the reply's body and error headers. */
const raw = (sid: string, operation: string, payload: string) =>
  rawReply(nc(), `tether.v1.session.${sid}.${operation}`, payload);

/** The variables of session `sid` as `var.export` answers them. */
const exported = async (sid: string): Promise<unknown> => (await raw(sid, 'var.export', '{}')).body.result;

describe('request values', () => {
  it('refuses a deep tag where the value is not nested beyond the depth limit, naming where, and writes nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await raw('deep-tag', 'open', '');
    await raw('deep-tag', 'var.define', '{"name":"j","type":"json","value":[1,2]}');
    const before = await exported('deep-tag');
    const deep = { $: 'deep' };
    const metadata = { $: 'object', entries: [['metadata', { $: 'object', entries: [['k', deep]] }]] };
    const cases: [operation: string, body: object, at: string][] = [
      ['var.define', { name: 't1', type: 'json', value: deep, tagged: true }, 'value'],
      ['var.define', { name: 't2', type: 'json', value: [1, deep], tagged: true }, 'value[1]'],
      ['var.define', { name: 't3', type: 'json', value: 1, options: metadata, tagged: true }, 'options.metadata.k'],
      ['var.set', { name: 'j', value: [[deep]], tagged: true }, 'value[0][0]'],
      ['var.setMany', { values: { $: 'object', entries: [['j', deep]] }, tagged: true }, 'values.j'],
    ];
    for (const [operation, body, at] of cases) {
      const reply = await raw('deep-tag', operation, JSON.stringify(body));
      expect(reply.errorCode, at).toBe('400');
      expect(reply.body.error, at).toMatchObject({ code: 'validation_failed', details: { constraint: 'tagged', at } });
      expect(reply.body.error.message, at).toContain(`malformed tagged value at ${at}: `);
    }
    expect(await exported('deep-tag')).toEqual(before);
    // Where a client cuts a value off, the tag is read as before: the value is judged too deep, as embedded.
    let nested: unknown = 1;
    for (let i = 0; i < 300; i++) nested = [nested];
    const cut = tagRequest({ name: 't', type: 'json', value: nested, tagged: true }, ['value']);
    const refused = await raw('deep-tag', 'var.define', JSON.stringify(cut));
    expect(refused.body.error).toMatchObject({ code: 'validation_failed' });
    expect(refused.body.error.message).toMatch(/nested deeper than 256 levels$/);
    expect(await exported('deep-tag')).toEqual(before);
  });

  // Found by a review: read outside a value's validation, the part a tag stands for threw a plain Error, which the
  // node answered as internal_error (500) carrying the client's text.
  it('answers an unreadable tag anywhere with validation_failed, never a server error, and writes nothing', async () => {
    await fx().node(fx().buckets());
    await raw('unreadable', 'open', '');
    await raw('unreadable', 'var.define', '{"name":"n","type":"integer","value":1}');
    const before = await exported('unreadable');
    const part = { $: 'unreadable', message: 'x' };
    const cases: [operation: string, body: object][] = [
      ['var.set', { name: 'n', value: part, tagged: true }],
      ['var.setMany', { values: part, tagged: true }],
      ['var.setMany', { values: { $: 'object', entries: [['n', part]] }, atomic: true, tagged: true }],
      ['var.define', { name: 'q', type: 'json', value: 1, options: part, tagged: true }],
      [
        'var.define',
        { name: 'q', type: 'json', value: 1, options: { $: 'object', entries: [['constraints', part]] }, tagged: true },
      ],
      ['var.import', { records: [part], tagged: true }],
      ['var.import', { records: [{ $: 'object', entries: [['name', part]] }], tagged: true }],
    ];
    for (const [operation, body] of cases) {
      const reply = await raw('unreadable', operation, JSON.stringify(body));
      const label = `${operation} ${JSON.stringify(body).slice(0, 80)}`;
      expect(reply.errorCode, label).toBe('400');
      expect(reply.body.error, label).toMatchObject({ code: 'validation_failed' });
      expect(reply.body.error.message, label).toMatch(/\bx\b/);
    }
    expect(await exported('unreadable')).toEqual(before);
  });

  it("refuses a number literal beyond a double's range on every write, naming the variable, and writes nothing", async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await raw('overflow', 'open', '');
    await raw(
      'overflow',
      'var.define',
      '{"name":"cap","type":"float","value":1,"options":{"constraints":{"min":0,"max":2}}}',
    );
    await raw('overflow', 'var.define', '{"name":"other","type":"float","value":1}');
    const before = await exported('overflow');
    const cases: [operation: string, body: string, variable: string][] = [
      ['var.set', '{"name":"cap","value":1e400}', 'cap'],
      ['var.set', '{"name":"cap","value":-1e400}', 'cap'],
      ['var.set', `{"name":"cap","value":1${'0'.repeat(400)}}`, 'cap'],
      ['var.set', '{"name":"cap","value":1e400,"expectedVersion":1}', 'cap'],
      ['var.set', '{"name":"cap","value":1e400,"tagged":true}', 'cap'],
      ['var.setMany', '{"values":{"other":0.5,"cap":1e400}}', 'cap'],
      ['var.setMany', '{"values":{"other":0.5,"cap":1e400},"atomic":true}', 'cap'],
      ['var.setMany', '{"values":{"$":"object","entries":[["cap",-1e400]]},"tagged":true}', 'cap'],
      ['var.define', '{"name":"big","type":"float","value":1e400}', 'big'],
      ['var.import', '{"records":[{"name":"cap","type":"float","value":1e400}],"replace":true}', 'cap'],
      ['var.import', '{"records":[{"name":"big2","type":"float","value":-1e400}]}', 'big2'],
    ];
    for (const [operation, body, variable] of cases) {
      const reply = await raw('overflow', operation, body);
      const label = `${operation} ${body.slice(0, 80)}`;
      expect(reply.errorCode, label).toBe('400');
      expect(reply.body.error?.code, label).toBe('validation_failed');
      expect(reply.body.error.message, label).toMatch(new RegExp(`^${variable}: .* is out of range of a double`));
      expect(reply.body.error.message, label).toContain('"Infinity"');
    }
    // Nested, such a number was already refused: no value but a float's own holds a non-finite number.
    await raw('overflow', 'var.define', '{"name":"cfg","type":"json","value":{}}');
    const nested = await raw('overflow', 'var.set', '{"name":"cfg","value":{"a":[1e400]}}');
    expect(nested.body.error?.code).toBe('validation_failed');
    await raw('overflow', 'var.delete', '{"name":"cfg"}');
    expect(await exported('overflow')).toEqual(before);
    expect(await storedOfSession(nc(), buckets, 'overflow')).toMatchObject({ variables: 4 });
    // Infinity meant is sent as the documented string, and passes min/max as a float's non-finite values do.
    const meant = await raw('overflow', 'var.set', '{"name":"cap","value":"Infinity"}');
    expect(meant.body.result).toMatchObject({ value: 'Infinity', version: 2 });
  });

  // Found by a wire audit: "tagged": false (a Go struct's zero value, a Python default) was refused, where every
  // other boolean field of a request takes false as left out. `null` is left out too, as in any optional field.
  it('takes "tagged": false or null as left out, and refuses any other value but true, writing nothing', async () => {
    await fx().node(fx().buckets());
    await raw('plain', 'open', '');
    await raw('plain', 'var.define', '{"name":"n","type":"integer","value":1,"tagged":false}');
    const set = await raw('plain', 'var.set', '{"name":"n","value":2,"tagged":false}');
    expect(set.body.error).toBeUndefined();
    const setAgain = await raw('plain', 'var.set', '{"name":"n","value":2,"tagged":null}');
    expect(setAgain.body.error).toBeUndefined();
    expect((await raw('plain', 'var.get', '{"name":"n"}')).body.result).toMatchObject({ value: 2, version: 3 });
    for (const tagged of ['"true"', '1']) {
      const refused = await raw('plain', 'var.set', `{"name":"n","value":3,"tagged":${tagged}}`);
      expect(refused.body.error, tagged).toMatchObject({ code: 'validation_failed', details: { field: 'tagged' } });
      expect(refused.body.error.message, tagged).toBe("field 'tagged' must be true or false when present");
    }
    expect((await raw('plain', 'var.get', '{"name":"n"}')).body.result).toMatchObject({ value: 2, version: 3 });
  });
});
