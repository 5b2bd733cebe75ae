import { describe, expect, it } from 'vitest';
import { CallTimeoutError, SessionError, ValidationError } from '../../src/errors.js';
import { createEchoModel } from '../../src/index.js';
import { ERROR_CODE_HEADER } from '../../src/nats/wire.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const echo = { llm: createEchoModel() };

/** Anything with `listSessions`: a client, a node's runtime. */
interface Lister {
  listSessions(options?: { after?: string; limit?: number }): Promise<{ ids: string[]; next?: string }>;
}

/** Every id, page after page of `limit`; each page checked to be in order and after the one before. */
async function allPages(lister: Lister, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await lister.listSessions(after === undefined ? { limit } : { after, limit });
    pages += 1;
    expect(page.ids.length).toBeLessThanOrEqual(limit);
    if (page.next !== undefined) expect(page.next).toBe(page.ids.at(-1));
    ids.push(...page.ids);
    after = page.next;
  } while (after !== undefined);
  return { ids, pages };
}

/** A raw request to `sessions.list`, as any NATS client sends it: the reply's status header and body. */
async function rawList(body: string): Promise<{ status: string | undefined; body: Record<string, unknown> }> {
  const reply = await nc().request('tether.v1.sessions.list', new TextEncoder().encode(body), { timeout: 5000 });
  return { status: reply.headers?.get(ERROR_CODE_HEADER), body: reply.json<Record<string, unknown>>() };
}

describe('listing sessions on NATS nodes', () => {
  it('lists the sessions opened through any node on every node, in order, paged, without the deleted ones', async () => {
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, echo);
    const b = await fx().runtime(buckets, echo);
    const client = await fx().client();
    expect(await client.listSessions()).toEqual({ ids: [] });

    await Promise.all([a.session('on-a'), b.session('on-b'), client.session('by-client')]);
    const numbered = Array.from({ length: 11 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    await Promise.all(numbered.map((id, i) => (i % 2 === 0 ? a : b).session(id)));
    // One opened with a write only, as `var define` on a session that is not there does.
    await (await client.session('Upper_1')).defineVariable('x', 'integer', 1);
    const expected = ['Upper_1', 'by-client', 'on-a', 'on-b', ...numbered];
    // Code-point order: upper case before lower case, `-` before digits.
    expect([...expected].sort()).toEqual(expected);
    for (const lister of [client, a, b]) expect(await lister.listSessions()).toEqual({ ids: expected });

    // Deleted: gone from every listing at once, though its record's tombstone is still in the bucket.
    await (await client.session('on-b', { create: false })).delete();
    await (await a.session('s-03')).delete();
    const left = expected.filter((id) => id !== 'on-b' && id !== 's-03');
    for (const lister of [client, a, b]) expect((await lister.listSessions()).ids).toEqual(left);

    // Pages of 1, 4 and exactly as many as there are: every id once, in order, `next` absent on the last page.
    for (const limit of [1, 4, left.length]) {
      const { ids, pages } = await allPages(client, limit);
      expect(ids).toEqual(left);
      expect(pages).toBe(Math.ceil(left.length / limit));
    }
    expect(await a.listSessions({ limit: left.length })).toEqual({ ids: left });
    expect(await b.listSessions({ limit: 2 })).toEqual({ ids: left.slice(0, 2), next: left[1] });
    // `after` need not be an id, nor one that exists: a deleted one, a prefix, anything that sorts.
    expect((await client.listSessions({ after: 's-03' })).ids).toEqual(left.filter((id) => id > 's-03'));
    expect((await client.listSessions({ after: 'on', limit: 1 })).ids).toEqual(['on-a']);
    expect(await client.listSessions({ after: '' })).toEqual({ ids: left });
    expect(await client.listSessions({ after: 'z' })).toEqual({ ids: [] });
    expect(await client.listSessions({ after: 'ü' })).toEqual({ ids: [] });

    // Each node keeps the names it read for the next page: a session opened since is listed all the same.
    await client.session('late');
    const withLate = [...left, 'late'].sort();
    for (const lister of [client, a, b]) expect((await lister.listSessions()).ids).toEqual(withLate);
  });

  it('leaves out a session once it expired, and lists it while it lives', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { ...echo, sessionTtlMs: 400 });
    const client = await fx().client();
    await client.session('idle');
    expect((await client.listSessions()).ids).toEqual(['idle']);
    // A node expires it 500 to 700 ms after its last use; listings never count as a use.
    await waitFor(async () => (await client.listSessions()).ids.length === 0, {
      timeout: 10_000,
      interval: 50,
      message: 'the idle session left the listing',
    });
    expect(await node.listSessions()).toEqual({ ids: [] });
    // What a request with create: false finds: nothing.
    expect(['session_not_found', 'session_expired']).toContain(
      await settledCode((await client.session('idle', { create: false })).getVariable('x')),
    );
    await client.session('idle');
    expect((await client.listSessions()).ids).toEqual(['idle']);
  });

  it('refuses a bad body on the wire with validation_failed naming the field, and keeps serving', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, echo);
    await node.session('kept');
    const cases: [string, Record<string, unknown>][] = [
      ['[]', { constraint: 'json' }],
      ['"x"', { constraint: 'json' }],
      ['{not json', { constraint: 'json' }],
      ['{"after":1}', { field: 'after' }],
      ['{"after":false}', { field: 'after' }],
      [JSON.stringify({ after: 'a'.repeat(129) }), { field: 'after', constraint: 'maxLength' }],
      ['{"limit":0}', { field: 'limit', constraint: 'range' }],
      ['{"limit":-3}', { field: 'limit', constraint: 'range' }],
      ['{"limit":5001}', { field: 'limit', constraint: 'range' }],
      ['{"limit":1.5}', { field: 'limit' }],
      ['{"limit":"10"}', { field: 'limit' }],
      ['{"limit":1e300}', { field: 'limit' }],
      ['{"after":"a","cursor":"b"}', { unknown: ['cursor'] }],
    ];
    for (const [body, details] of cases) {
      const reply = await rawList(body);
      expect(reply.status, body).toBe('400');
      const error = reply.body.error as { code: string; message: string; details: Record<string, unknown> };
      expect(error.code, body).toBe('validation_failed');
      expect(error.details, body).toMatchObject(details);
      if (typeof details.field === 'string') expect(error.message, body).toContain(`'${details.field}'`);
    }
    // The largest page, an `after` of the longest length, and an empty body are fine.
    expect((await rawList('{"limit":5000}')).body).toMatchObject({ result: { ids: ['kept'] } });
    expect((await rawList(JSON.stringify({ after: 'z'.repeat(128) }))).body).toMatchObject({ result: { ids: [] } });
    expect((await rawList('')).body).toMatchObject({ result: { ids: ['kept'] }, revision: expect.any(Number) });
  });

  it('refuses bad options on the client and the node before anything is sent, and stops with them', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, echo);
    const client = await fx().client();
    await client.session('one');
    const bad: [unknown, string | undefined][] = [
      ['x', undefined],
      [[], undefined],
      [null, undefined],
      [{ after: 7 }, 'after'],
      [{ after: 'b'.repeat(129) }, 'after'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 5001 }, 'limit'],
      [{ limit: 2.5 }, 'limit'],
      [{ limit: '3' }, 'limit'],
      [{ size: 3 }, undefined],
    ];
    // Whatever reaches the subject is seen here: the refusals must send nothing.
    const sent: string[] = [];
    const spy = nc().subscribe('tether.v1.sessions.list', { callback: (_, msg) => sent.push(msg.string()) });
    await nc().flush();
    for (const [options, field] of bad) {
      for (const lister of [client, node]) {
        const error = await lister.listSessions(options as never).catch((e: unknown) => e);
        expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
        if (field !== undefined) expect((error as ValidationError).details.field).toBe(field);
      }
    }
    await (await fx().client()).listSessions({ limit: 1 });
    // Its copy reaches the spy on another connection than the reply: a round trip on the spy's connection, and what
    // the server sent it before the reply is here.
    await nc().flush();
    // The one good request went out (so the spy hears what is sent); none of the bad ones did.
    expect(sent).toEqual(['{"limit":1}']);
    spy.unsubscribe();
    // The client's words are the node's: checked by the same code.
    const onWire = (await rawList('{"limit":0}')).body.error as { message: string };
    const onClient = await client.listSessions({ limit: 0 }).catch((e: unknown) => e);
    expect((onClient as ValidationError).message).toBe(onWire.message);
    expect(await client.listSessions({ limit: 1, after: undefined })).toEqual({ ids: ['one'] });

    await client.close();
    const closed = await client.listSessions().catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(SessionError);
    expect(closed).toMatchObject({
      code: 'session_stopped',
      message: 'every session stopped',
      details: { client: 'closed' },
    });
    // Checked first, as `session()` checks its arguments first.
    expect(await client.listSessions({ limit: 0 }).catch((e: unknown) => e)).toBeInstanceOf(ValidationError);

    await node.stop();
    const stopped = await node.listSessions().catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(SessionError);
    expect(stopped).toMatchObject({ code: 'session_stopped' });
    expect(await settledCode(node.session('one'))).toBe('session_stopped');
  });

  it('times a listing nobody answers out as a read: no outcome to wonder about', async () => {
    // Something on the subject that never answers: the request is sent, and its reply never comes.
    const silent = nc().subscribe('tether.v1.sessions.list');
    const client = await fx().client({ timeoutMs: 300 });
    const error = await client.listSessions().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallTimeoutError);
    // A write's timeout says its outcome is unknown; a listing changed nothing.
    expect((error as CallTimeoutError).details.outcome).toBeUndefined();
    silent.unsubscribe();
  });
});
