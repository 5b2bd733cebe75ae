import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import {
  PayloadTooLargeError,
  Runtime,
  ValidationError,
  createLanguageModel,
  type ModuleEvent,
} from '../../src/index.js';
import { createKvStore } from '../../src/nats/kv-store.js';
import { recordLimitFor, variableRecordCodec } from '../../src/nats/record-codec.js';
import type { RemoteSession } from '../../src/nats/remote-session.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { rawReply } from '../support/raw-request.js';
import { collectVariableEvents } from '../support/variable-event-collector.js';

// A small max_payload keeps the values small; the sizes below are read from the server, so NATS_URL works too.
const fx = useNatsFixture({ maxPayload: 64 * 1024 });
const nc = usePlainConnection(fx);

const maxPayload = (): number => nc().info!.max_payload;
const limit = (): number => recordLimitFor(maxPayload());
const codec = variableRecordCodec();

/**
 * The length of a string value that makes `record`, at its next version, exactly `bytes` long encoded (a write
 * changes the version and the timestamp, whose ISO form has a fixed length).
 */
function valueLengthFor(record: VariableRecord, bytes: number): number {
  return bytes - codec.encode({ ...record, value: '', version: record.version + 1 }).length;
}

/** Defines `count` string variables `v0...` whose records are each just under the node's record limit. */
async function defineLargeVariables(session: RemoteSession, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const record = await session.defineVariable(`v${i}`, 'string', '');
    await session.setVariable(`v${i}`, 'x'.repeat(valueLengthFor(record, limit())));
  }
}

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

  it('refuses a module spec that fits in the request but leaves a message of the modules bucket no room', async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('spec-size');
    // The request (some 200 bytes more than the instructions, its headers included) fits under max_payload; stored,
    // it would leave no room for the bucket's headers within a kilobyte (and none for a reply describing the module).
    // It got internal_error once the server refused the write.
    const spec = { type: 'Predict', signature: 'question -> answer', instructions: 'i'.repeat(maxPayload() - 240) };
    const refusal = await session.module('big', spec).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      details: { field: 'spec', constraint: 'maxBytes', moduleId: 'big' },
    });
    expect((refusal as Error).message).toMatch(/^module 'big' spec is \d+ bytes as stored, over the \d+ bytes/);
    // Nothing was claimed: the id is free, and a spec of a fitting size is created under it.
    expect(await session.modules()).toEqual([]);
    await session.module('big', { ...spec, instructions: 'short' });
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['big']);
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

  it('answers an execution whose output is too large with payload_too_large, and tells subscribers it failed', async () => {
    const stub = await OpenAIStub.start();
    try {
      const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
      await fx().runtime(fx().buckets(), { llm });
      const session = await (await fx().client()).session('mod');
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        maxRetries: 0,
      });
      const events: ModuleEvent[] = [];
      const subscription = nc().subscribe('tether.v1.events.mod.module.qa', {
        callback: (_e, msg) => events.push(msg.json<ModuleEvent>()),
      });
      await nc().flush();
      stub.fallback = () => text(`Answer: ${'y'.repeat(maxPayload())}`);

      const refusal = await qa.execute({ question: 'everything?' }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(PayloadTooLargeError);
      expect((refusal as Error).message).toMatch(/^reply to module\.execute of session 'mod' is \d+ bytes/);
      await waitFor(() => events.some((event) => event.type === 'module.failed'), { message: 'module.failed' });
      expect(events.filter((event) => event.type === 'module.result')).toEqual([]);
      expect(events.find((event) => event.type === 'module.failed')).toMatchObject({
        sessionId: 'mod',
        moduleId: 'qa',
        error: { code: 'payload_too_large', details: { limit: maxPayload() } },
      });

      stub.fallback = () => text('Answer: short');
      await expect(qa.execute({ question: 'and now?' })).resolves.toMatchObject({ output: { answer: 'short' } });
      subscription.unsubscribe();
    } finally {
      await stub.close();
    }
  });
});
