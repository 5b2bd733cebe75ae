import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawAnswer, rawReply } from '../support/raw-request.js';
import { rawSocketRequest } from '../support/raw-nats-socket.js';

// A client in another language sends header names as its user wrote them: nats.py and a raw socket keep
// `tether-min-revision` as given; nats.go canonicalizes `TETHER-DEADLINE` to the documented spelling. Looked up
// exactly, a name in another case was silently not there: the request ran with no read-your-writes wait, bound to
// no life of its session, past its deadline.
const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const encoder = new TextEncoder();

/** Sends `body` to session `sid`'s `operation` with these header pairs, exactly as spelled: the reply's JSON and status. */
async function sent(sid: string, operation: string, body: object, pairs: [string, string][]) {
  const answer = await rawAnswer(
    nc(),
    `tether.v1.session.${sid}.${operation}`,
    encoder.encode(JSON.stringify(body)),
    pairs,
    5000,
  );
  if (answer.kind !== 'reply') throw new Error(`no reply to ${operation}: ${answer.kind}`);
  return { body: answer.msg.json<Record<string, any>>(), status: answer.msg.headers?.get('Nats-Service-Error-Code') };
}

const valueOf = async (sid: string): Promise<unknown> =>
  (await rawReply(nc(), `tether.v1.session.${sid}.var.get`, '{"name":"n"}')).body.result?.value;

describe('request header names', () => {
  it('reads the revision headers in any case, the first value of two spellings counting', async () => {
    await fx().node(fx().buckets());
    await sent('case-rev', 'open', {}, []);
    await sent('case-rev', 'var.define', { name: 'n', type: 'integer', value: 1 }, []);
    for (const name of ['tether-min-revision', 'TETHER-MIN-REVISION', 'tether-Min-revision']) {
      const reply = await sent('case-rev', 'var.get', { name: 'n' }, [[name, '999999']]);
      expect(reply.status, name).toBe('412');
      expect(reply.body.error, name).toMatchObject({
        code: 'revision_unknown',
        details: { minRevision: 999999, header: 'Tether-Min-Revision' },
      });
    }
    const first = [
      ['tether-min-revision', '999999'] as [string, string],
      ['Tether-Min-Revision', '1'] as [string, string],
    ];
    expect((await sent('case-rev', 'var.get', { name: 'n' }, first)).status).toBe('412');
    const second = [
      ['Tether-Min-Revision', '1'] as [string, string],
      ['tether-min-revision', '999999'] as [string, string],
    ];
    expect((await sent('case-rev', 'var.get', { name: 'n' }, second)).body.result).toMatchObject({ value: 1 });
    // A malformed value under another spelling is refused as under the documented one, and nothing is written.
    const bad = await sent('case-rev', 'var.set', { name: 'n', value: 2 }, [['tether-min-revision', '-1']]);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', details: { constraint: 'Tether-Min-Revision' } });
    const modules = await sent('case-rev', 'module.list', {}, [['TETHER-MIN-MODULES-REVISION', '999999']]);
    expect(modules.body.error).toMatchObject({
      code: 'revision_unknown',
      details: { header: 'Tether-Min-Modules-Revision' },
    });
    expect(await valueOf('case-rev')).toBe(1);
  });

  it('binds a request to the life its lower-case Tether-Incarnation names, and writes nothing in another', async () => {
    await fx().node(fx().buckets());
    const life = (await sent('case-life', 'open', {}, [])).body.result.incarnation as string;
    await sent('case-life', 'delete', {}, []);
    await sent('case-life', 'open', {}, []);
    await sent('case-life', 'var.define', { name: 'n', type: 'integer', value: 1 }, []);
    const reply = await sent('case-life', 'var.set', { name: 'n', value: 2 }, [['tether-incarnation', life]]);
    expect(reply.body.error).toMatchObject({ code: 'session_not_found', details: { incarnation: life } });
    expect(await valueOf('case-life')).toBe(1);
  });

  it('refuses a write past its deadline given as TETHER-DEADLINE, and writes nothing', async () => {
    await fx().node(fx().buckets());
    await sent('case-deadline', 'open', {}, []);
    await sent('case-deadline', 'var.define', { name: 'n', type: 'integer', value: 1 }, []);
    const deadline = `${Date.now() - 5_000}/1000`;
    const reply = await sent('case-deadline', 'var.set', { name: 'n', value: 2 }, [['TETHER-DEADLINE', deadline]]);
    expect(reply.body.error).toMatchObject({ code: 'call_timeout' });
    expect(await valueOf('case-deadline')).toBe(1);
  });

  it('reads a lower-case tether-search-deadline on the outcome subject', async () => {
    const node = await fx().node(fx().buckets());
    const outcome = `tether.v1.node.${node.serviceId}.case.module.qa.outcome`;
    const seconds = String(Math.floor(Date.now() / 1000) + 120);
    const refused = await rawReply(nc(), outcome, '{"executionId":"ex-case"}', ['tether-search-deadline', seconds]);
    expect(refused.errorCode).toBe('400');
    expect(refused.body.error).toMatchObject({
      code: 'validation_failed',
      message: `header Tether-Search-Deadline must be ms since 1970, not seconds, got '${seconds}'`,
    });
  });
});

describe('request header names nats.js cannot read', () => {
  // A raw client (or nats.py, which writes names as given) can send a name with a space or outside ASCII; the
  // server passes it on. nats.js threw reading it, and its service answered 500 with no body: a client parsing the
  // documented JSON error body got nothing to parse.
  it('refuses them with validation_failed and a JSON body, and writes nothing', async () => {
    const node = (await fx().node(fx().buckets())).serviceId;
    await sent('bad-name', 'open', {}, []);
    await sent('bad-name', 'var.define', { name: 'n', type: 'integer', value: 1 }, []);
    const subject = 'tether.v1.session.bad-name.var.set';
    for (const name of ['X Trace', 'Tether-Min-Revision ', 'Trace-\u00dc']) {
      const reply = await rawSocketRequest(
        fx().server.url,
        subject,
        `NATS/1.0\r\n${name}: 1\r\n\r\n`,
        '{"name":"n","value":2}',
      );
      expect(reply.header, name).toMatch(/^NATS\/1\.0\r\n/);
      expect(reply.header, name).toContain('Nats-Service-Error-Code: 400\r\n');
      expect(reply.header, name).toMatch(
        /Nats-Service-Error: validation_failed: request headers unreadable: [ -~]+\r\n/,
      );
      const error = JSON.parse(reply.body).error;
      expect(error, name).toMatchObject({ code: 'validation_failed', details: { constraint: 'headers' } });
      expect(error.message, name).toMatch(/^request headers unreadable: a header name must be printable ASCII/);
    }
    // The same on the outcome subject, which is no micro service endpoint.
    const outcome = `tether.v1.node.${node}.bad-name.module.qa.outcome`;
    const asked = await rawSocketRequest(
      fx().server.url,
      outcome,
      'NATS/1.0\r\nX Trace: 1\r\n\r\n',
      '{"executionId":"e"}',
    );
    expect(JSON.parse(asked.body).error).toMatchObject({
      code: 'validation_failed',
      details: { constraint: 'headers' },
    });
    expect(await valueOf('bad-name')).toBe(1);
  });
});
