import { RequestStrategy } from 'nats';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createNodeStore } from '../../src/nats/node-store.js';
import type { EndpointStatsData } from '../../src/nats/endpoint-stats.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { startSessionService } from '../../src/nats/session-service.js';
import { Runtime } from '../../src/node/runtime.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A raw request, as any NATS client would send it; the reply's body and error headers. */
const raw = (subject: string, payload: Uint8Array | string, header?: [string, string]) =>
  rawReply(nc(), subject, payload, header);

describe('session service', () => {
  it('answers $SRV.PING, INFO and STATS from every node', async () => {
    const buckets = fx().buckets();
    const a = await fx().node(buckets);
    const b = await fx().node(buckets);
    const pings = await nc().requestMany('$SRV.PING.tether', undefined, {
      strategy: RequestStrategy.Count,
      maxMessages: 2,
      maxWait: 5000,
    });
    const ids: string[] = [];
    for await (const msg of pings) ids.push(msg.json<{ id: string; name: string }>().id);
    expect(ids.sort()).toEqual([a.serviceId, b.serviceId].sort());
    const info = (await nc().request(`$SRV.INFO.tether.${a.serviceId}`)).json<{
      endpoints: { name: string; subject: string; queue_group: string }[];
    }>();
    expect(info.endpoints).toContainEqual({
      name: 'var-set',
      subject: 'tether.v1.session.*.var.set',
      queue_group: 'tether',
      metadata: { operation: 'set' },
    });
    expect(info.endpoints.map((e) => e.name)).toContain('open');
    // The eighteen session endpoints (open, delete, the variable operations and sessions-list), and beside them the
    // six module endpoints of a node (module-service test).
    expect(info.endpoints.filter((e) => !e.name.startsWith('module-')).length).toBe(18);
    expect(info.endpoints.length).toBe(24);
  });

  it('spreads requests over the nodes of the queue group', async () => {
    const buckets = fx().buckets();
    const a = await fx().node(buckets);
    const b = await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('spread');
    await session.defineVariable('x', 'integer', 0);
    await Promise.all(Array.from({ length: 200 }, () => session.getVariable('x')));
    const [servedByA, servedByB] = [await a.requestsServed(), await b.requestsServed()];
    expect(servedByA + servedByB).toBe(202);
    expect(servedByA).toBeGreaterThan(0);
    expect(servedByB).toBeGreaterThan(0);
    const stats = (await nc().request(`$SRV.STATS.tether.${a.serviceId}`)).json<{
      endpoints: { name: string; num_requests: number }[];
    }>();
    const served = stats.endpoints.reduce((sum, e) => sum + e.num_requests, 0);
    expect(served).toBe(servedByA);
  });

  it("counts each endpoint's replies, error replies and processing time in its STATS data", async () => {
    const node = await fx().node(fx().buckets());
    await raw('tether.v1.session.counted.open', '');
    await raw('tether.v1.session.counted.var.define', '{"name":"x","type":"integer","value":1}');
    const started = process.hrtime.bigint();
    for (let i = 0; i < 3; i++)
      expect((await raw('tether.v1.session.counted.var.get', '{"name":"x"}')).errorCode).toBe('');
    for (let i = 0; i < 2; i++)
      expect((await raw('tether.v1.session.counted.var.get', '{"name":"y"}')).errorCode).toBe('404');
    const elapsedNanos = Number(process.hrtime.bigint() - started);

    const stats = (await nc().request(`$SRV.STATS.tether.${node.serviceId}`)).json<{
      endpoints: { name: string; num_requests: number; data: EndpointStatsData }[];
    }>();

    const get = stats.endpoints.find((endpoint) => endpoint.name === 'var-get')!;
    expect(get.num_requests).toBe(5);
    expect(get.data).toMatchObject({ replies: 5, errors: 2 });
    // The last error reply's description, as its Nats-Service-Error header had it (nats.js's own last_error stays '').
    expect(get.data.last_error).toBe("variable_not_found: variable 'y' not found in session 'counted'");
    expect(get.data.processing_time).toBeGreaterThan(0);
    expect(get.data.average_processing_time).toBe(Math.round(get.data.processing_time / 5));
    // In nanoseconds, as the micro protocol counts: no more than the requests' round trips took here, and far more
    // than a microsecond each (a round trip through NATS and the session's process), which no coarser unit would give.
    expect(get.data.processing_time).toBeLessThanOrEqual(elapsedNanos);
    expect(get.data.average_processing_time).toBeGreaterThan(1000);
    // An endpoint not asked yet has all its figures 0, its average too (not NaN, which JSON would send as null).
    expect(stats.endpoints.find((endpoint) => endpoint.name === 'var-set')!.data).toEqual({
      replies: 0,
      errors: 0,
      processing_time: 0,
      average_processing_time: 0,
      last_error: '',
    });
  });

  it('answers session_not_found for a session that was never opened, and opens one on request', async () => {
    await fx().node(fx().buckets());
    const missing = await raw('tether.v1.session.nobody.var.get', '{"name":"x"}');
    expect(missing.errorCode).toBe('404');
    expect(missing.body.error).toMatchObject({ code: 'session_not_found', details: { sessionId: 'nobody' } });
    const opened = await raw('tether.v1.session.nobody.open', '');
    expect(opened.body).toMatchObject({ result: { sessionId: 'nobody' } });
    expect(opened.body.revision).toBeTypeOf('number');
    const defined = await raw('tether.v1.session.nobody.var.define', '{"name":"x","type":"integer","value":1}');
    expect(defined.body.result).toMatchObject({ name: 'x', value: 1, version: 1 });
  });

  it('refuses bad input with validation_failed, changes nothing and keeps serving', async () => {
    const buckets = fx().buckets();
    const node = await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('fuzz');
    await session.defineVariable('t', 'float', 0.5, { constraints: { min: 0, max: 1 } });
    await session.defineVariable('n', 'integer', 1);
    await session.defineVariable('as', 'string', 'aaa', { constraints: { pattern: '^(a+)+$' } });
    const before = await session.exportVariables();
    const set = 'tether.v1.session.fuzz.var.set';
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const cases: [string, string | Uint8Array, [string, string]?][] = [
      [set, '{"name":"t","value":'],
      [set, 'not json at all'],
      [set, '[1,2,3]'],
      [set, '42'],
      [set, 'null'],
      [set, '"t"'],
      [set, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      [set, deep],
      [set, '{"value":0.7}'],
      [set, '{"name":"t"}'],
      [set, '{"name":5,"value":0.7}'],
      [set, '{"name":"t","value":"0.7"}'],
      [set, '{"name":"t","value":7}'],
      [set, '{"name":"t","value":0.7,"expectedVersion":"1"}'],
      [set, '{"name":"t","value":0.7,"expectedVersion":-1}'],
      [set, '{"name":"t","value":0.7,"expectedId":5}'],
      [set, '{"name":"t","value":0.7,"updatedBy":{}}'],
      [set, '{"name":"t","value":0.7,"bogus":true}'],
      [set, '{"name":"t","value":0.7,"__proto__":{"polluted":true}}'],
      [set, '{"name":"t.x","value":0.7}'],
      [set, '{"name":"t*","value":0.7}'],
      [set, '{"name":"t>","value":0.7}'],
      [set, '{"name":"t x","value":0.7}'],
      [set, '{"name":"t\\tx","value":0.7}'],
      [set, JSON.stringify({ name: 't', value: 'x'.repeat(100 * 1024) })],
      [set, '{"name":"t","value":0.7}', ['Tether-Min-Revision', 'soon']],
      // Only decimal digits: `Number()` would read each of these as some revision.
      ...['0x7fffffff', '0b11', '5.0', '-0', '+5', '1e9', '9007199254740992'].map(
        (revision) =>
          [set, '{"name":"t","value":0.7}', ['Tether-Min-Revision', revision]] as [string, string, [string, string]],
      ),
      ['tether.v1.session.*.var.set', '{"name":"t","value":0.7}'],
      ['tether.v1.session.>.var.set', '{"name":"t","value":0.7}'],
      ['tether.v1.session.fuzz.var.setMany', '{"values":[0.7]}'],
      ['tether.v1.session.fuzz.var.setMany', '{"values":{"t":0.7},"atomic":"yes"}'],
      // A non-atomic batch answers an invalid name in its own outcome (session-arguments.nats.test.ts).
      ['tether.v1.session.fuzz.var.setMany', '{"values":{"t":0.3,"t.x":0.7},"atomic":true}'],
      ['tether.v1.session.fuzz.var.getMany', '{"names":"t"}'],
      ['tether.v1.session.fuzz.var.getMany', '{"names":["t",7]}'],
      ['tether.v1.session.fuzz.var.define', '{"name":"new","type":"float"}'],
      ['tether.v1.session.fuzz.var.define', '{"name":"new","type":"quaternion","value":1}'],
      ['tether.v1.session.fuzz.var.define', '{"name":"new","type":"float","value":1,"options":[]}'],
      ['tether.v1.session.fuzz.var.import', '{"records":{}}'],
      ['tether.v1.session.fuzz.var.import', '{"records":[{"name":"t","type":"float","value":0.2}],"replace":1}'],
      ['tether.v1.session.fuzz.var.rollback', '{"name":"t","version":"1"}'],
      ['tether.v1.session.fuzz.var.lock', '{"name":"t","owner":""}'],
      ['tether.v1.session.fuzz.var.lock', '{"name":"t"}'],
      ['tether.v1.session.fuzz.var.list', '{"pattern":5}'],
      ['tether.v1.session.fuzz.var.delete', '{"name":"t","updatedBy":5}'],
    ];
    for (const [subject, payload, header] of cases) {
      const reply = await raw(subject, payload, header);
      const label = `${subject} ${typeof payload === 'string' ? payload.slice(0, 60) : 'bytes'}`;
      expect(reply.errorCode, label).toBe('400');
      expect(reply.error, label).toMatch(/^validation_failed: /);
      expect(reply.body.error?.code, label).toBe('validation_failed');
    }
    // This value used to freeze every node of the queue group: V8 backtracks exponentially on it.
    const evil = await raw(set, JSON.stringify({ name: 'as', value: `${'a'.repeat(40)}!` }));
    expect(evil.body.error).toMatchObject({ code: 'validation_failed', message: 'as: must match pattern: ^(a+)+$' });
    const lookahead = { name: 'new', type: 'string', value: 'ab', options: { constraints: { pattern: 'a(?=b)' } } };
    const define = await raw('tether.v1.session.fuzz.var.define', JSON.stringify(lookahead));
    expect(define.body.error).toMatchObject({
      code: 'validation_failed',
      message: 'new: constraint pattern /a(?=b)/ is not supported by the linear-time matcher: lookahead (?=',
    });
    // In the embedded API's words: versions count from 1.
    for (const version of ['0', '-1', '"1"']) {
      const rollback = await raw('tether.v1.session.fuzz.var.rollback', `{"name":"t","version":${version}}`);
      expect(rollback.body.error.message).toBe(`version of variable 't' must be a whole number from 1, got ${version}`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await session.exportVariables()).toEqual(before);
    expect((await raw(set, '{"name":"t","value":0.7}')).body.result).toMatchObject({ value: 0.7, version: 2 });
    expect(await node.requestsServed()).toBeGreaterThan(cases.length);
  });

  it('refuses a get default nested deeper than any value may be, naming the field, as define refuses that value', async () => {
    await fx().node(fx().buckets());
    await raw('tether.v1.session.deep.open', '');
    await raw('tether.v1.session.deep.var.define', '{"name":"x","type":"integer","value":1}');
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    // Whether or not the variable exists: the field is checked as it arrives, as every field is.
    for (const name of ['missing', 'x']) {
      const reply = await raw('tether.v1.session.deep.var.get', `{"name":"${name}","default":${nested(100_000)}}`);
      expect(reply.errorCode, name).toBe('400');
      // The message shows the path's ends, so that the reason fits the error header; the details have all of it.
      expect(reply.body.error, name).toMatchObject({
        code: 'validation_failed',
        details: { field: 'default', path: `default${'[0]'.repeat(256)}` },
      });
      expect(reply.error, name).toMatch(/is nested deeper than 256 levels$/);
      expect(reply.body.error.message, name).toMatch(
        /^field 'default' must be a JSON value; default(\[0\]){17}\[0…(\[0\]){10} is nested deeper than 256 levels$/,
      );
    }
    const defined = await raw('tether.v1.session.deep.var.define', `{"name":"j","type":"json","value":${nested(300)}}`);
    expect(defined.body.error).toMatchObject({ code: 'validation_failed' });
    // As deep as a value may be, it is echoed back as given.
    const fine = await raw('tether.v1.session.deep.var.get', `{"name":"missing","default":${nested(256)}}`);
    expect(JSON.stringify(fine.body.result)).toBe(`{"value":${nested(256)},"type":null,"version":0}`);
  });

  it('names the field a request lacks or gives wrongly, a number shown as itself, changing nothing', async () => {
    await fx().node(fx().buckets());
    await raw('tether.v1.session.named.open', '');
    await raw('tether.v1.session.named.var.define', '{"name":"x","type":"integer","value":1}');
    const op = (operation: string) => `tether.v1.session.named.var.${operation}`;
    const whole = (field: string, minimum: number, got: string) => ({
      message: `field '${field}' must be a whole number ≥ ${minimum}, got ${got}`,
      details: { field, expected: `a whole number ≥ ${minimum}`, got: 'number' },
    });
    const cases: [string, string, object][] = [
      [
        op('set'),
        '{"name":"x"}',
        { message: "missing field 'value'", details: { field: 'value', constraint: 'required' } },
      ],
      [
        op('setMany'),
        '{}',
        { message: "missing field 'values'", details: { field: 'values', constraint: 'required' } },
      ],
      [op('set'), '{"name":"x","value":2,"expectedVersion":1.5}', whole('expectedVersion', 0, '1.5')],
      // Past 2^53 a number no longer names one version: 2^53 + 1 reads as 2^53.
      [
        op('set'),
        '{"name":"x","value":2,"expectedVersion":9007199254740992}',
        whole('expectedVersion', 0, '9007199254740992'),
      ],
      [op('history'), '{"name":"x","limit":0}', whole('limit', 1, '0')],
      [op('history'), '{"name":"x","after":0.5}', whole('after', 0, '0.5')],
    ];
    for (const [subject, payload, error] of cases) {
      const reply = await raw(subject, payload);
      expect(reply.errorCode, payload).toBe('400');
      expect(reply.body.error, payload).toMatchObject({ code: 'validation_failed', ...error });
    }
    expect((await raw(op('get'), '{"name":"x"}')).body.result).toMatchObject({ value: 1, version: 1 });
  });

  it('lists the fields an operation accepts when it refuses an unknown one, tagged included, none for none', async () => {
    await fx().node(fx().buckets());
    await raw('tether.v1.session.fields.open', '');
    const set = await raw('tether.v1.session.fields.var.set', '{"name":"t","value":1,"bogus":true}');
    const message =
      'set got unknown field bogus; accepted: name, value, expectedVersion, expectedId, updatedBy, reason, tagged';
    expect(set.body.error).toMatchObject({ code: 'validation_failed', message });
    expect(set.body.error.details.accepted).toContain('tagged');
    const open = await raw('tether.v1.session.fields.open', '{"bogus":1}');
    expect(open.body.error.message).toBe('open got unknown field bogus; accepted: none');
    // The header says what the body says.
    expect(open.error).toBe(`validation_failed: ${open.body.error.message}`);
  });
});

describe('session service refusals of requests near the size limit', () => {
  it('refuses with validation_failed, cut to fit, what repeated whole would be over max_payload', async () => {
    await fx().node(fx().buckets());
    await raw('tether.v1.session.echo.open', '');
    const field = 'k'.repeat(600_000);
    const get = await raw('tether.v1.session.echo.var.get', JSON.stringify({ name: 'a', [field]: 1 }));
    expect(get.body.error).toMatchObject({ code: 'validation_failed', details: { cut: true } });
    expect(get.body.error.message).toMatch(/^get got unknown field k+…$/);
    const shape = await raw(
      'tether.v1.session.echo.var.define',
      JSON.stringify({ name: 't', type: 'tensor', value: { shape: Array(300_000).fill(0), data: [1] } }),
    );
    expect(shape.body.error).toMatchObject({ code: 'validation_failed', details: { cut: true } });
    expect((await raw('tether.v1.session.echo.var.list', '{}')).body.result).toEqual([]);
  });

  it('answers each refused name of a setMany whose refusals list 20,000 choices, and writes none of them', async () => {
    await fx().node(fx().buckets());
    await raw('tether.v1.session.many.open', '');
    const choices = Array.from({ length: 20_000 }, (_, i) => `model-${String(i).padStart(6, '0')}`);
    for (const name of ['a', 'b']) {
      const define = { name, type: 'choice', value: choices[0], options: { constraints: { choices } } };
      expect((await raw('tether.v1.session.many.var.define', JSON.stringify(define))).body.error).toBeUndefined();
    }
    const set = await raw('tether.v1.session.many.var.setMany', '{"values":{"a":"typo","b":"typo"}}');
    for (const name of ['a', 'b']) {
      expect(set.body.result[name]).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      expect(set.body.result[name].error.message).toMatch(/^\w: must be one of: model-000000, .*, … and 19980 more$/);
    }
    const read = await raw('tether.v1.session.many.var.getMany', '{"names":["a","b"]}');
    expect(read.body.result.found).toMatchObject({ a: { version: 1 }, b: { version: 1 } });
  });
});

describe('a session service started on a connection that outlives it', () => {
  it('stops following the connection once stopped: each start and stop leaves no listener behind', async () => {
    const connection = nc();
    const buckets = fx().buckets();
    const store = await createNodeStore(connection, { bucket: buckets.variablesBucket, onListenerError: () => {} });
    onTestFinished(() => store.close());
    const runtime = await Runtime.start({ store, onError: () => {} });
    onTestFinished(() => runtime.stop());
    const directory = await createSessionDirectory(connection, { bucket: buckets.sessionsBucket });
    // The status iterators the service takes from the connection; nats.js's say whether they were stopped.
    const followed: { done?: boolean }[] = [];
    const status = connection.status.bind(connection);
    const spy = vi.spyOn(connection, 'status').mockImplementation(() => {
      const statuses = status();
      followed.push(statuses as { done?: boolean });
      return statuses;
    });
    onTestFinished(() => spy.mockRestore());

    for (let start = 0; start < 3; start++) {
      const service = await startSessionService(
        connection,
        directory.provider((id) => runtime.session(id)),
        {
          store,
          onError: () => {},
        },
      );
      await service.stop();
    }
    expect(followed.length).toBeGreaterThan(0);
    expect(followed.filter((statuses) => !statuses.done)).toEqual([]);
  });
});
