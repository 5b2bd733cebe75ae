import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import { PayloadTooLargeError } from '../../src/index.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { waitFor } from '../support/wait-for.js';
import { rawReply } from '../support/raw-request.js';
import { usePayloadLimitFixture } from '../support/payload-limit-fixture.js';

const { fx, nc, maxPayload, limit, valueLengthFor, defineLargeVariables } = usePayloadLimitFixture();

describe('payload limits', () => {
  it('lists and watches a session too large for one reply a page at a time, as any client can page', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('big');
    await defineLargeVariables(session, 3);
    const large = (await session.getVariable('v0')) as string;

    const listed = await session.listVariables();
    expect(listed.map((record) => [record.name, record.value])).toEqual([
      ['v0', large],
      ['v1', large],
      ['v2', large],
    ]);
    // An export is still one reply: it is refused.
    await expect(session.exportVariables()).rejects.toMatchObject({ code: 'payload_too_large' });
    // Over the wire: unpaged, the list is too large, and the refusal says how to page; paged, each page fits.
    const subject = 'tether.v1.session.big.var.list';
    const whole = await rawReply(nc(), subject, '{}');
    expect(whole.errorCode).toBe('413');
    expect(whole.body.error).toMatchObject({ code: 'payload_too_large', details: { operation: 'var.list' } });
    expect(whole.body.error.message).toContain('ask for a page at a time with "after"');
    const first = await rawReply(nc(), subject, JSON.stringify({ after: '' }));
    expect(first.body.result.variables.map((record: VariableRecord) => record.name)).toEqual(['v0']);
    expect(first.body.result.next).toBe('v0');
    const second = await rawReply(nc(), subject, JSON.stringify({ after: 'v0', limit: 1 }));
    expect(second.body.result).toMatchObject({ variables: [{ name: 'v1' }], next: 'v1' });
    const last = await rawReply(nc(), subject, JSON.stringify({ after: 'v1' }));
    expect(last.body.result.variables.map((record: VariableRecord) => record.name)).toEqual(['v2']);
    expect(last.body.result).not.toHaveProperty('next');
    // A bad cursor or limit is refused.
    for (const [body, field] of [
      [{ after: 3 }, 'after'],
      [{ after: 'a'.repeat(129) }, 'after'],
      [{ after: '', limit: 0 }, 'limit'],
    ] as const) {
      const refused = await rawReply(nc(), subject, JSON.stringify(body));
      expect(refused.body.error).toMatchObject({ code: 'validation_failed', details: { field } });
    }
    // A page that asks nothing beyond the list is the whole list when it fits.
    expect((await rawReply(nc(), subject, JSON.stringify({ pattern: 'v2', after: '' }))).body.result).toEqual({
      variables: [expect.objectContaining({ name: 'v2' })],
    });

    // A watch starts from the same read, then hears the writes.
    const changes: [string, number][] = [];
    const unwatch = await session.watchVariables('*', (change) => void changes.push([change.name, change.version]), {
      includeInitial: true,
    });
    await session.setVariable('v1', 'short');
    await waitFor(() => changes.length === 4, { message: 'the initial values and the write' });
    expect(changes).toEqual([
      ['v0', 2],
      ['v1', 2],
      ['v2', 2],
      ['v1', 3],
    ]);
    unwatch();

    // The node carries on.
    await session.setVariable('v2', 'short');
    expect((await session.listVariables()).map((record) => record.value)).toEqual([large, 'short', 'short']);
  });

  it('reads the history of a value too large for one reply a page at a time, or only its newest versions', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('long-history');
    await defineLargeVariables(session, 1);
    // Versions 3 to 5 take as many digits as version 2: each value makes its record just fit.
    const length = valueLengthFor(await session.describeVariable('v0'), limit());
    for (const letter of ['a', 'b', 'c']) await session.setVariable('v0', letter.repeat(length));

    const history = await session.variableHistory('v0');
    expect(history.map((entry) => [entry.version, (entry.value as string).slice(0, 1)])).toEqual([
      [1, ''],
      [2, 'x'],
      [3, 'a'],
      [4, 'b'],
      [5, 'c'],
    ]);
    const newest = await session.variableHistory('v0', { limit: 2 });
    expect(newest.map((entry) => entry.version)).toEqual([4, 5]);

    // Over the wire: unpaged it is too large; a page (two versions fit: a record takes up to half a message) goes on
    // after its last version.
    const subject = 'tether.v1.session.long-history.var.history';
    const whole = await rawReply(nc(), subject, JSON.stringify({ name: 'v0' }));
    expect(whole.body.error).toMatchObject({ code: 'payload_too_large', details: { operation: 'var.history' } });
    expect(whole.body.error.message).toContain('or for the newest versions with "limit"');
    const page = await rawReply(nc(), subject, JSON.stringify({ name: 'v0', after: 2 }));
    // Each page names the variable it is of, so a client notices one defined again between two pages.
    const { id } = await session.describeVariable('v0');
    expect(page.body.result).toMatchObject({ type: 'string', id, entries: [{ version: 3 }, { version: 4 }], next: 4 });
    const newestOnly = await rawReply(nc(), subject, JSON.stringify({ name: 'v0', limit: 1 }));
    expect(newestOnly.body.result.entries.map((entry: { version: number }) => entry.version)).toEqual([5]);

    // A bad limit or cursor is refused before anything is read, here as over the wire.
    await expect(session.variableHistory('v0', { limit: 0 })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "variableHistory option 'limit' must be a whole number ≥ 1, got 0",
    });
    const badLimit = await rawReply(nc(), subject, JSON.stringify({ name: 'v0', limit: 0 }));
    expect(badLimit.body.error).toMatchObject({
      code: 'validation_failed',
      message: "field 'limit' must be a whole number ≥ 1, got 0",
      details: { field: 'limit' },
    });
    const badAfter = await rawReply(nc(), subject, JSON.stringify({ name: 'v0', after: -1 }));
    expect(badAfter.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'after' } });
  });

  it('says a setMany whose per-name answer is too large was carried out, and how to read its names back', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('many');
    await session.defineVariable('x', 'integer', 1);
    // Every missing name is answered with its own refusal: some 3000 of them are far over the server's 64 KiB.
    const values: Record<string, unknown> = { x: 2 };
    for (let i = 0; i < 3000; i++) values[`missing${i}`] = 1;

    const refusal = await session.setVariables(values).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PayloadTooLargeError);
    expect(refusal).toMatchObject({
      code: 'payload_too_large',
      details: { operation: 'var.setMany', sessionId: 'many', outcome: 'applied' },
    });
    expect((refusal as Error).message).toMatch(/^reply to var\.setMany of session 'many' is \d+ bytes, over/);
    expect((refusal as Error).message).toContain('the batch was carried out');
    expect(await session.getVariable('x')).toBe(2);
  });

  it('answers a page of sessions too large for one message with payload_too_large and how to ask for less', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    // 600 ids of 120 characters: some 73 KB as one page, over the server's 64 KiB.
    const ids = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(4, '0')}${'s'.repeat(116)}`);
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => client.session(id)));

    const refusal = await client.listSessions().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PayloadTooLargeError);
    expect(refusal).toMatchObject({
      code: 'payload_too_large',
      limit: maxPayload(),
      details: { operation: 'sessions.list' },
    });
    expect((refusal as Error).message).toMatch(/^reply to sessions\.list is \d+ bytes, over the NATS max_payload/);
    expect((refusal as Error).message).toContain('smaller limit');
    // Asked for less, the same node answers.
    expect((await client.listSessions({ limit: 300 })).ids).toEqual(ids.slice(0, 300));

    // The CLI asks for half as many until a page fits, and prints every id once.
    const printed: string[] = [];
    let stderr = '';
    const code = await runCli(['session', 'list'], {
      out: (line) => void printed.push(line),
      err: (line) => void (stderr += line),
      env: { NATS_URL: fx().server.url },
    });
    expect([code, stderr]).toEqual([0, '']);
    expect(printed).toEqual(ids);
  });

  it('lists a session too large for one reply from the CLI, and prints only the newest versions with --limit', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('cli-big');
    await defineLargeVariables(session, 3);
    await session.setVariable('v0', 'short');
    const run = async (...args: string[]) => {
      const out: string[] = [];
      let stderr = '';
      const code = await runCli(args, {
        out: (line) => void out.push(line),
        err: (line) => void (stderr += `${line}\n`),
        env: { NATS_URL: fx().server.url },
      });
      return { code, out, stderr };
    };
    const list = await run('var', 'list', '--session', 'cli-big', '--json');
    expect([list.code, list.stderr]).toEqual([0, '']);
    expect(JSON.parse(list.out.join('')).map((record: VariableRecord) => record.name)).toEqual(['v0', 'v1', 'v2']);
    const history = await run('var', 'history', 'v0', '--limit', '1', '--session', 'cli-big');
    expect([history.code, history.stderr]).toEqual([0, '']);
    expect(history.out).toEqual([expect.stringMatching(/^v3 {2}"short" {2}\S+Z$/)]);
    const bad = await run('var', 'history', 'v0', '--limit', '0', '--session', 'cli-big');
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "tether: usage: --limit must be a whole number from 1 to 9007199254740991, got '0' (see: tether var history --help)\n",
    ]);
  });
});
