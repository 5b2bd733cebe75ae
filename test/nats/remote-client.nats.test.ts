import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AlreadyExistsError,
  NoProcError,
  SessionError,
  ValidationError,
  VariableLockedError,
  VariableNotFoundError,
  VersionConflictError,
} from '../../src/errors.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { expectUpdateAcrossRedefinition } from '../support/update-across-redefinition.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('remote client', () => {
  it('round-trips the session API through a node', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('s1');
    const record = await session.defineVariable('temperature', 'float', 0.7, {
      constraints: { min: 0, max: 2 },
      description: 'T',
    });
    expect(record).toMatchObject({ name: 'temperature', type: 'float', value: 0.7, version: 1, description: 'T' });
    expect(await session.getVariable('temperature')).toBe(0.7);
    await session.setVariable('temperature', 0.9, { updatedBy: 'me', reason: 'warmer' });
    expect(await session.describeVariable('temperature')).toMatchObject({ value: 0.9, version: 2, updatedBy: 'me' });
    expect(await session.hasVariable('temperature')).toBe(true);
    expect(await session.hasVariable('nope')).toBe(false);
    expect(await session.getVariable('nope', { default: 42 })).toBe(42);
    await expect(session.getVariable('nope')).rejects.toBeInstanceOf(VariableNotFoundError);
    await expect(session.defineVariable('temperature', 'float', 1)).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(session.setVariable('temperature', 5)).rejects.toBeInstanceOf(ValidationError);
    await expect(session.setVariable('temperature', 1, { expectedVersion: 1 })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await session.defineVariable('ratio', 'float', Number.NaN);
    expect(await session.getVariable('ratio')).toBeNaN();
    await session.setVariable('ratio', Number.NEGATIVE_INFINITY);
    expect((await session.describeVariable('ratio')).value).toBe(Number.NEGATIVE_INFINITY);
    expect(await session.getVariables(['temperature', 'ratio', 'gone'])).toEqual({
      found: { temperature: 0.9, ratio: Number.NEGATIVE_INFINITY },
      missing: ['gone'],
    });
    expect((await session.listVariables('t*')).map((r) => r.name)).toEqual(['temperature']);
    expect(await session.setVariables({ temperature: 1, ratio: 2 }, { atomic: true })).toEqual({
      temperature: { ok: true, version: 3 },
      ratio: { ok: true, version: 3 },
    });
    const outcomes = await session.setVariables({ temperature: 9, ratio: 3 });
    expect(outcomes.temperature).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect((await session.variableHistory('ratio')).map((e) => e.value)).toEqual([
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      2,
      3,
    ]);
    expect(await session.rollbackVariable('temperature', 1)).toMatchObject({ value: 0.7, version: 4 });
    await session.lockVariable('temperature', 'alice');
    await expect(session.setVariable('temperature', 1, { updatedBy: 'bob' })).rejects.toBeInstanceOf(
      VariableLockedError,
    );
    await session.unlockVariable('temperature', 'alice');
    const exported = await session.exportVariables();
    expect(exported.map((e) => e.name)).toEqual(['ratio', 'temperature']);
    const copy = await client.session('s2');
    expect(await copy.importVariables(exported)).toBe(2);
    expect(await copy.getVariable('ratio')).toBe(3);
    await session.deleteVariable('ratio');
    expect(await session.hasVariable('ratio')).toBe(false);
    expect(await session.updateVariable('temperature', (v) => (v as number) + 0.5)).toMatchObject({ value: 1.2 });
    // The update picks its own version: one given is refused, as the embedded session refuses it.
    await expect(session.updateVariable('temperature', () => 0, { expectedVersion: 1 } as never)).rejects.toMatchObject(
      { code: 'validation_failed', message: expect.stringContaining('expectedVersion') },
    );
    // And its type says so, for the identity too (found by a review: the type took expectedId, the call refused it).
    // @ts-expect-error updateVariable's compare-and-set is its own
    await expect(session.updateVariable('temperature', () => 0, { expectedId: 'x' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('expectedId'),
    });
    expect(await session.getVariable('temperature')).toBe(1.2);
  });

  it('updates a variable deleted and defined again under its function from the new one, as the embedded does', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const session = await client.session('s1');
    await expectUpdateAcrossRedefinition(session);
    expect(await session.getVariable('counter')).toBe(1);
  });

  it('says a handle was created by its open only for the open that began the life', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const first = await client.session('fresh');
    expect(first.created).toBe(true);
    expect((await client.session('fresh')).created).toBe(false);
    expect((await client.session('fresh', { create: false })).created).toBe(false);
    // Deleted and opened again, the id has a new life, begun by that open.
    await first.delete();
    const again = await client.session('fresh');
    expect([again.created, again.incarnation === first.incarnation]).toEqual([true, false]);
  });

  it('says a handle was not created by its open when the node is too old to say', async () => {
    // A node that predates `created` answers the open with its life alone: the CLI would otherwise take the session
    // for its own and delete it again after a refused write (open-if-accepted.ts).
    const old = nc().subscribe('tether.v1.session.aged.open', {
      callback: (_error, msg) =>
        msg.respond(new TextEncoder().encode('{"result":{"incarnation":"life-1"},"revision":0}')),
    });
    onTestFinished(() => old.unsubscribe());
    await nc().flush();
    const session = await (await fx().client()).session('aged');
    expect([session.created, session.incarnation]).toEqual([false, 'life-1']);
  });

  it('answers session_not_found for a session that was never opened', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const ghost = await client.session('ghost', { create: false });
    const error = await ghost.getVariable('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'session_not_found', sessionId: 'ghost' });
  });

  it('fails with NoProcError at once when no node is running', async () => {
    const client = await fx().client({ timeoutMs: 10_000 });
    const error = await client.session('s1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoProcError);
    // It names the subject nobody serves, not a process.
    expect(error).toMatchObject({ message: expect.stringMatching(/^no tether node serves '[^']+\.session\.s1\./) });
  });

  /** A node behind a proxy (reconnecting fast once restored), and a client it has answered, cut off from the node. */
  async function nodeCutOff(timeoutMs?: number) {
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    await fx().node(fx().buckets(), { servers: proxy.url, nats: { reconnect: { waitMs: 100 } } });
    const session = await (await fx().client(timeoutMs === undefined ? {} : { timeoutMs })).session('ride');
    await session.defineVariable('x', 'integer', 1);
    proxy.cut();
    // The server has dropped the node's subscriptions: a request now finds no responders.
    await waitFor(
      () =>
        nc()
          .request('tether.v1.session.ride.var.get', new TextEncoder().encode('{"name":"x"}'), { timeout: 1000 })
          .then(
            () => false,
            (error: { code?: string }) => error.code === '503',
          ),
      { message: 'no node subscribed' },
    );
    return { proxy, session };
  }

  it('rides out no responders while the nodes that answered it reconnect, and the write lands once', async () => {
    const { proxy, session } = await nodeCutOff();
    const write = session.setVariable('x', 2);
    setTimeout(() => proxy.restore(), 400);
    expect(await write).toMatchObject({ value: 2, version: 2 });
    expect(await session.getVariable('x')).toBe(2);
  });

  it('fails with NoProcError once its timeout passes with the nodes it knew still gone', async () => {
    const { proxy, session } = await nodeCutOff(800);
    const error = await session.setVariable('x', 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoProcError);
    // Back, so that the node stops at once rather than at the end of its drain timeout.
    proxy.restore();
  });

  it('rejects a request in flight with NatsConnectionError when the client closes', async () => {
    // A responder that never answers: the request is taken, then the connection goes.
    const silent = nc().subscribe('tether.v1.session.*.open', { callback: () => {} });
    await nc().flush();
    const client = await fx().client({ timeoutMs: 30_000 });
    try {
      const opening = client.session('s1').catch((e: unknown) => e);
      await client.close();
      // An open may create the session: whether the node got it and did is unknown.
      expect(await opening).toMatchObject({
        code: 'nats_connection',
        status: 'closed',
        details: { subject: 'tether.v1.session.s1.open', outcome: 'unknown' },
      });
    } finally {
      silent.unsubscribe();
    }
  });

  it('refuses a request larger than the server max_payload with ValidationError, and the node keeps serving', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const session = await client.session('big');
    await session.defineVariable('s', 'string', '');
    await expect(session.setVariable('s', 'x'.repeat(2 * 1024 * 1024))).rejects.toBeInstanceOf(ValidationError);
    expect(await session.setVariable('s', 'ok')).toMatchObject({ value: 'ok', version: 2 });
  });

  it('refuses a request timeout longer than a timer can wait (2^31-1 ms) with ValidationError, before connecting', async () => {
    // Node would fire such a timer at once: every request would time out as it was sent.
    for (const timeoutMs of [2 ** 31, 3_000_000_000, 0, 1.5]) {
      await expect(fx().client({ timeoutMs })).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(fx().client({ timeoutMs: 2 ** 31 - 1 })).resolves.toBeDefined();
  });

  it('refuses a session id that cannot be a subject token before sending anything', async () => {
    const client = await fx().client();
    for (const id of ['a.b', 'a*', '>', 'a b', '']) {
      await expect(client.session(id)).rejects.toBeInstanceOf(ValidationError);
    }
  });
});
