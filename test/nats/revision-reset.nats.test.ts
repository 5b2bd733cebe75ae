import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headers, type Msg, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import {
  BucketResetError,
  NatsConnectionError,
  RevisionUnknownError,
  Runtime,
  connect,
  type NatsConnectionStatus,
} from '../../src/index.js';
import { bucketLastRevision } from '../../src/nats/bucket-stream.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** A raw request carrying `Tether-Min-Revision: minRevision`, as any NATS client would send it. */
async function rawWithMinRevision(subject: string, body: object, minRevision: number) {
  const h = headers();
  h.set('Tether-Min-Revision', String(minRevision));
  const reply = await nc().request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000, headers: h });
  return { body: reply.json<Record<string, any>>(), errorCode: reply.headers?.get('Nats-Service-Error-Code') ?? '' };
}

/** What an operator does to start over: removes the buckets (their streams) while no node runs. */
async function deleteBuckets(connection: NatsConnection, buckets: TestBuckets): Promise<void> {
  const manager = await connection.jetstreamManager();
  for (const bucket of Object.values(buckets)) await manager.streams.delete(`KV_${bucket}`);
}

describe('revision reset', () => {
  it('answers revision_unknown with the bucket revision for a Tether-Min-Revision above it, and changes nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('ahead');
    await session.defineVariable('x', 'integer', 1);
    const last = await bucketLastRevision(nc(), buckets.variablesBucket);
    const wanted = last + 1000;

    const reply = await rawWithMinRevision('tether.v1.session.ahead.var.set', { name: 'x', value: 2 }, wanted);
    expect(reply.errorCode).toBe('412');
    expect(reply.body.error).toMatchObject({
      code: 'revision_unknown',
      details: { bucket: buckets.variablesBucket, minRevision: wanted, currentRevision: last },
    });
    expect(reply.body.error.message).toContain(`revision ${wanted} is above the last revision ${last}`);
    expect(reply.body.error.message).toContain('re-created or its JetStream storage reset');
    expect(await session.getVariable('x')).toBe(1);
    // A revision the bucket has reached is still served as before.
    const served = await rawWithMinRevision('tether.v1.session.ahead.var.get', { name: 'x' }, last);
    expect(served.body.result).toMatchObject({ value: 1, version: 1 });
  });

  it('lets a client that saw a high revision carry on once the buckets are deleted and a new node creates them', async () => {
    const buckets = fx().buckets();
    const first = await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('reset');
    await session.defineVariable('x', 'integer', 0);
    for (let i = 1; i <= 20; i++) await session.setVariable('x', i);
    const seen = client.revision;
    expect(seen).toBeGreaterThanOrEqual(21);
    // The modules bucket too: the client now sends a modules revision the new bucket will not reach for a while.
    for (let i = 0; i < 10; i++) await (await session.module(`m${i}`, predict)).stop();

    await first.stop();
    await deleteBuckets(nc(), buckets);
    await fx().node(buckets);

    // Each request asks for the old revision first; the node's refusal hands the client the new bucket's.
    const again = await client.session('reset');
    await again.defineVariable('x', 'integer', 7);
    expect(await again.getVariable('x')).toBe(7);
    expect(client.revision).toBeLessThan(seen);
    expect(client.revision).toBe(await bucketLastRevision(nc(), buckets.variablesBucket));
    // A module request is refused for each bucket in turn (the modules one naming its header), then served.
    const fresh = await again.module('fresh', predict);
    expect(await fresh.describe()).toMatchObject({ moduleId: 'fresh' });
    expect((await again.modules()).map((module) => module.moduleId)).toEqual(['fresh']);
  });

  it('refuses a Tether-Min-Modules-Revision above the modules bucket, naming the header', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await (await fx().client()).session('ahead');
    const last = await bucketLastRevision(nc(), buckets.modulesBucket);
    const h = headers();
    h.set('Tether-Min-Modules-Revision', String(last + 1000));
    const reply = await nc().request('tether.v1.session.ahead.module.list', enc.encode('{}'), {
      timeout: 5000,
      headers: h,
    });
    expect(reply.json<Record<string, any>>().error).toMatchObject({
      code: 'revision_unknown',
      details: {
        bucket: buckets.modulesBucket,
        header: 'Tether-Min-Modules-Revision',
        minRevision: last + 1000,
        currentRevision: last,
      },
    });
  });

  it('keeps a revision a reply raised when an older request is refused later', async () => {
    // A stand-in for nodes after a reset: the first request is refused at once, the second one (sent before that
    // refusal, with the same old revision) slowly, after the first one's retry was written at revision 30.
    const prefix = `lower_${process.pid}_${Date.now()}`;
    const refuse = (msg: Msg, current: number) => {
      const refusal = new RevisionUnknownError('tether_vars', 1000, current);
      const h = headers();
      h.set('Nats-Service-Error-Code', '412');
      h.set('Nats-Service-Error', `revision_unknown: ${refusal.message}`);
      msg.respond(enc.encode(JSON.stringify({ error: refusal.toJSON(), revision: current })), { headers: h });
    };
    const asked: (string | undefined)[] = [];
    let slowRefused = false;
    const responder = nc().subscribe(`${prefix}.v1.session.>`, {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) {
          msg.respond(enc.encode(JSON.stringify({ result: { sessionId: 's' }, revision: 1000 })));
          return;
        }
        asked.push(msg.headers?.get('Tether-Min-Revision'));
        if (asked.length === 1) return refuse(msg, 25);
        if (asked.length === 2) {
          setTimeout(() => {
            refuse(msg, 20);
            slowRefused = true;
          }, 200);
          return;
        }
        const result = asked.length === 3 ? { name: 'x', value: 1, version: 2 } : { value: 1 };
        msg.respond(enc.encode(JSON.stringify({ result, revision: 30 })));
      },
    });
    await nc().flush();
    try {
      const client = await fx().client({ prefix });
      const session = await client.session('s');
      const write = session.setVariable('x', 1);
      const read = session.getVariable('x').catch(() => undefined);
      await write;
      expect(client.revision).toBe(30);
      await read;
      expect(slowRefused).toBe(true);
      // The refusal of the read (bucket at 20 when that node looked) must not undo the write seen at 30.
      expect(client.revision).toBe(30);
      expect(asked.slice(0, 3)).toEqual(['1000', '1000', '25']);
      expect(asked[3]).toBe('30');
    } finally {
      responder.unsubscribe();
    }
  });

  it('keeps a modules revision a reply raised when an older module request is refused later', async () => {
    // As above, for the modules bucket: two module lists sent with the old modules revision, the first refused at
    // once, the second slowly, after the first one's retry was answered at modules revision 30.
    const prefix = `lower_modules_${process.pid}_${Date.now()}`;
    const refuse = (msg: Msg, current: number) => {
      const header = 'Tether-Min-Modules-Revision';
      const refusal = new RevisionUnknownError('tether_modules', 1000, current, { details: { header } });
      const h = headers();
      h.set('Nats-Service-Error-Code', '412');
      h.set('Nats-Service-Error', `revision_unknown: ${refusal.message}`);
      msg.respond(enc.encode(JSON.stringify({ error: refusal.toJSON(), revision: 1 })), { headers: h });
    };
    const asked: (string | undefined)[] = [];
    const responder = nc().subscribe(`${prefix}.v1.session.>`, {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) {
          msg.respond(enc.encode(JSON.stringify({ result: { sessionId: 's' }, revision: 1 })));
          return;
        }
        asked.push(msg.headers?.get('Tether-Min-Modules-Revision') || undefined);
        if (asked.length === 2) return refuse(msg, 25);
        if (asked.length === 3) return void setTimeout(() => refuse(msg, 20), 200);
        const modulesRevision = asked.length === 1 ? 1000 : 30;
        msg.respond(enc.encode(JSON.stringify({ result: [], revision: 1, modulesRevision })));
      },
    });
    await nc().flush();
    try {
      const session = await (await fx().client({ prefix })).session('s');
      await session.modules();
      await Promise.all([session.modules(), session.modules()]);
      // The retry of the list refused late asks for what the client has seen since, not for the refusal's 20.
      expect(asked).toEqual([undefined, '1000', '1000', '25', '30']);
    } finally {
      responder.unsubscribe();
    }
  });

  it("keeps delivering a watch's events after the variables bucket is deleted and created again", async () => {
    const buckets = fx().buckets();
    const first = await fx().node(buckets);
    const client = await fx().client();
    const session = await client.session('w');
    await session.defineVariable('x', 'integer', 0);
    for (let i = 1; i <= 30; i++) await session.setVariable('x', i);
    const got: unknown[] = [];
    // Watched through a handle bound to no life of the session: wiping the buckets ends every session, and a watch
    // of the life it opened would end with it. This one follows the id into the new bucket.
    const unbound = await client.session('w', { create: false });
    await unbound.watchVariables('x', (change) => got.push(change.newValue));
    await session.setVariable('x', 31);
    await waitFor(() => got.includes(31), { message: 'the watch hears 31' });

    await first.stop();
    await deleteBuckets(nc(), buckets);
    await fx().node(buckets);
    const again = await client.session('w');
    await again.defineVariable('x', 'integer', 100);
    for (let i = 101; i <= 103; i++) await again.setVariable('x', i);
    await waitFor(() => got.at(-1) === 103, { message: `the watch hears 103 (got ${JSON.stringify(got)})` });
    // No value of the new bucket goes missing, in order.
    expect(got.slice(got.indexOf(101) - 1)).toEqual([100, 101, 102, 103]);
  });

  it('throws a second revision_unknown in a row to the caller, having sent the revision the first one gave', async () => {
    // A stand-in for a node whose bucket keeps being reset: it answers the open, then refuses every other request.
    const prefix = `reset_${process.pid}_${Date.now()}`;
    const asked: (string | undefined)[] = [];
    const refusal = new RevisionUnknownError('tether_vars', 50, 3);
    const responder = nc().subscribe(`${prefix}.v1.session.>`, {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) {
          msg.respond(enc.encode(JSON.stringify({ result: {}, revision: 50 })));
          return;
        }
        asked.push(msg.headers?.get('Tether-Min-Revision'));
        const h = headers();
        h.set('Nats-Service-Error-Code', '412');
        h.set('Nats-Service-Error', `revision_unknown: ${refusal.message}`);
        msg.respond(enc.encode(JSON.stringify({ error: refusal.toJSON(), revision: 3 })), { headers: h });
      },
    });
    await nc().flush();
    try {
      const client = await fx().client({ prefix });
      const session = await client.session('twice');
      expect(client.revision).toBe(50);
      const failure = await session.getVariable('x').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RevisionUnknownError);
      expect(asked).toEqual(['50', '3']);
      expect(client.revision).toBe(3);
    } finally {
      responder.unsubscribe();
    }
  });
});

// This test stops and restarts its own server; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('revision reset of the whole JetStream storage', () => {
  it('lets a long-lived client carry on when the server comes back with empty storage and the node restarts', async () => {
    let server = await startNatsServer();
    const port = Number(new URL(server.url).port);
    const nats = { servers: server.url, reconnect: { waitMs: 100 } };
    let node = await Runtime.start({ nats, onError: () => {} });
    const statuses: NatsConnectionStatus[] = [];
    const client = await connect({
      ...nats,
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
    });
    try {
      const session = await client.session('s');
      await session.defineVariable('x', 'integer', 0);
      for (let i = 1; i <= 20; i++) await session.setVariable('x', i);
      const seen = client.revision;

      await node.stop();
      await server.stop();
      server = await startNatsServer({ port });
      node = await Runtime.start({ nats, onError: () => {} });
      // A request sent while the client is still away could be lost with the old server: wait until it is back.
      await waitFor(() => statuses.includes('reconnected'), { message: 'the client reconnects' });

      const again = await client.session('s');
      await again.defineVariable('x', 'integer', 0);
      expect(await again.getVariable('x')).toBe(0);
      expect(client.revision).toBeLessThan(seen);
    } finally {
      await client.close();
      await node.stop();
      await server.stop();
    }
  });

  // Found in a recovery audit: a node that rode through a restore of the server's storage from a backup went on
  // serving the values it had applied after the backup, refused every write to them with version_conflict ("kept
  // changing under the write") and told its onError nothing, so the operator had no sign that it needed a restart.
  it('tells onError once, naming the bucket, when the server comes back with older storage under a running node', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'tether-restore-'));
    const backup = await mkdtemp(join(tmpdir(), 'tether-backup-'));
    let server = await startNatsServer({ storeDir });
    const port = Number(new URL(server.url).port);
    const nats = { servers: server.url, reconnect: { waitMs: 100 } };
    const told: unknown[] = [];
    const reconnects = () => told.filter((e) => e instanceof NatsConnectionError && e.status === 'reconnected').length;
    const node = await Runtime.start({ nats, onError: (error) => told.push(error) });
    try {
      const session = await node.session('s');
      await session.defineVariable('x', 'integer', 0);
      await server.stop();
      await cp(storeDir, backup, { recursive: true });
      server = await startNatsServer({ storeDir, port });
      await waitFor(() => reconnects() === 1, { message: 'the node reconnects' });
      for (let i = 1; i <= 5; i++) await session.setVariable('x', i);
      expect(told.some((e) => e instanceof BucketResetError)).toBe(false);

      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
      await cp(backup, storeDir, { recursive: true });
      server = await startNatsServer({ storeDir, port });
      await waitFor(() => told.some((e) => e instanceof BucketResetError), { message: 'the node tells the reset' });
      const resets = told.filter((e) => e instanceof BucketResetError);
      expect(resets).toHaveLength(1);
      const reset = resets[0] as BucketResetError;
      expect(reset).toMatchObject({ code: 'bucket_reset', bucket: 'tether_vars' });
      expect(reset.lastRevision).toBeLessThan(reset.appliedRevision);
      expect(reset.message).toContain("bucket 'tether_vars'");
      expect(reset.message).toContain('restart this node');
    } finally {
      await node.stop();
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
      await rm(backup, { recursive: true, force: true });
    }
  });
});
