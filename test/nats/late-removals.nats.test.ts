import { connect } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { kvStream, kvSubject } from '../../src/nats/kv-bucket.js';
import { openModuleSpecs, type ModuleSpecs } from '../../src/nats/module-specs.js';
import { parseWireSpec, toWireSpec } from '../../src/nats/module-wire-spec.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const spec = toWireSpec(parseWireSpec({ type: 'Predict', signature: 'question:string -> answer:string' }));

/** Module specs on a fresh bucket, closed when the test ends. */
async function openSpecs(options: { bucket?: string; removalDelayMs?: number; onRemovalError?: (e: unknown) => void }) {
  const specs = await openModuleSpecs(nc(), { bucket: options.bucket ?? fx().buckets().modulesBucket, ...options });
  onTestFinished(() => specs.close());
  return specs;
}

/** The revisions the bucket's stream holds for `key`, oldest first. */
async function messagesOf(specs: ModuleSpecs, key: string): Promise<number[]> {
  const manager = await nc().jetstreamManager();
  const info = await manager.streams.info(kvStream(specs.bucket), { subjects_filter: kvSubject(specs.bucket, key) });
  const revisions: number[] = [];
  for (let seq = info.state.first_seq; info.state.subjects && seq > 0 && seq <= info.state.last_seq; seq++) {
    try {
      const message = await manager.streams.getMessage(kvStream(specs.bucket), { seq });
      if (message.subject === kvSubject(specs.bucket, key)) revisions.push(message.seq);
    } catch {
      // Removed: not held.
    }
  }
  return revisions;
}

describe('delete markers of removed modules', () => {
  it('leave the bucket once due: a session that used many ids lists only the live ones, and an id is free again', async () => {
    const specs = await openSpecs({ removalDelayMs: 50 });
    for (let i = 0; i < 20; i++) {
      const revision = await specs.claim('s1', `m${i}`, spec);
      expect(await specs.release('s1', `m${i}`, revision)).toBe(true);
    }
    await specs.claim('s1', 'kept', spec);

    const manager = await nc().jetstreamManager();
    await waitFor(async () => (await manager.streams.info(kvStream(specs.bucket))).state.messages === 1, {
      message: 'only the live spec is left in the stream',
    });
    expect((await specs.list('s1')).map((listed) => listed.moduleId)).toEqual(['kept']);
    // The key holds nothing now: a creation of the id takes it as a never-used one.
    const again = await specs.claim('s1', 'm3', spec);
    expect(await specs.current('s1', 'm3')).toEqual({ revision: again, spec });
  });

  it('stay while not due: a marker is what tells a node offline during the stop', async () => {
    const specs = await openSpecs({ removalDelayMs: 60_000 });
    const revision = await specs.claim('s1', 'qa', spec);
    await specs.release('s1', 'qa', revision);
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(await messagesOf(specs, 's1.qa')).toEqual([revision + 1]);
  });

  it('are removed only up to the marker: a module created again before the removal keeps its spec', async () => {
    const specs = await openSpecs({ removalDelayMs: 100 });
    const first = await specs.claim('s1', 'qa', spec);
    await specs.release('s1', 'qa', first);
    const again = await specs.claim('s1', 'qa', spec);
    // Past the marker's removal (the bucket keeps one message per key: the new spec replaced the marker already).
    await new Promise((resolve) => setTimeout(resolve, 400));

    expect(await messagesOf(specs, 's1.qa')).toEqual([again]);
    expect(await specs.load('s1', 'qa')).toMatchObject({ revision: again });
  });

  it('left by a node that stopped first are removed once a read finds them', async () => {
    const buckets = fx().buckets();
    const gone = await openSpecs({ bucket: buckets.modulesBucket, removalDelayMs: 60_000 });
    for (const id of ['a', 'b']) await gone.release('s1', id, await gone.claim('s1', id, spec));
    gone.close();
    const specs = await openSpecs({ bucket: buckets.modulesBucket, removalDelayMs: 50 });

    expect(await specs.list('s1')).toEqual([]);
    const manager = await nc().jetstreamManager();
    await waitFor(async () => (await manager.streams.info(kvStream(specs.bucket))).state.messages === 0, {
      message: 'both markers removed after the listing found them',
    });
  });

  it('the stream refuses to delete are told, typed and naming the stream, and stay (a bucket edited to deny_delete)', async () => {
    const reports: unknown[] = [];
    const specs = await openSpecs({ removalDelayMs: 20, onRemovalError: (error) => void reports.push(error) });
    const manager = await nc().jetstreamManager();
    const stream = kvStream(specs.bucket);
    // Possible on a running bucket (never the other way): the node checked the bucket at start only.
    await manager.streams.update(stream, { ...(await manager.streams.info(stream)).config, deny_delete: true });
    const revision = await specs.claim('s1', 'qa', spec);
    await specs.release('s1', 'qa', revision);

    await waitFor(() => reports.length > 0, { message: 'the refused removal told, once given up on' });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBeInstanceOf(InternalError);
    expect(reports[0]).toMatchObject({
      code: 'internal_error',
      message: `stream '${stream}' refused to delete its message ${revision + 1}: message delete not permitted`,
    });
    expect(await messagesOf(specs, 's1.qa')).toEqual([revision + 1]);
  });
});

describe('the modules watch of a node back from an outage', () => {
  it('says it skipped messages removed before it read them, so the node checks what it runs again', async () => {
    const buckets = fx().buckets();
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const behind = await connect({ servers: proxy.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    onTestFinished(() => behind.close());
    const watched = await openModuleSpecs(behind, { bucket: buckets.modulesBucket });
    onTestFinished(() => watched.close());
    const writer = await openSpecs({ bucket: buckets.modulesBucket, removalDelayMs: 0 });
    const written: string[] = [];
    let skipped = 0;
    const watch = watched.watch(
      (_sessionId, moduleId) => written.push(moduleId),
      () => {},
      () => (skipped += 1),
    );
    onTestFinished(() => watch.stop());
    await watch.initialized;
    await writer.claim('s1', 'before', spec);
    await waitFor(() => written.includes('before'), { message: 'the watch saw the first write' });

    proxy.cut();
    // While it is away: a module created and stopped, its spec and marker removed at once, then another created.
    const stopped = await writer.claim('s1', 'stopped', spec);
    await writer.release('s1', 'stopped', stopped);
    await waitFor(async () => (await messagesOf(writer, 's1.stopped')).length === 0, { message: 'marker removed' });
    await writer.claim('s1', 'after', spec);
    proxy.restore();
    await waitFor(() => !behind.isClosed() && behind.info !== undefined && written.length > 0, { message: 'back' });
    await waitFor(
      async () => {
        await watch.resume();
        return written.includes('after');
      },
      { message: 'the watch saw the write after the outage' },
    );

    expect(written).toEqual(['before', 'after']);
    expect(skipped).toBe(1);
  });

  it('says so too when a wait for a revision passes by a stop marker removed before the watch read it', async () => {
    const buckets = fx().buckets();
    // The watch's deliveries are held back; requests and replies (the wait's reads of the stream) go through.
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.modulesBucket}.`),
    );
    onTestFinished(() => proxy.close());
    const behind = await connect({ servers: proxy.url });
    onTestFinished(() => behind.close());
    const watched = await openModuleSpecs(behind, { bucket: buckets.modulesBucket });
    onTestFinished(() => watched.close());
    const writer = await openSpecs({ bucket: buckets.modulesBucket, removalDelayMs: 0 });
    let skipped = 0;
    const watch = watched.watch(
      () => {},
      () => {},
      () => (skipped += 1),
    );
    onTestFinished(() => watch.stop());
    await watch.initialized;

    proxy.hold();
    await writer.release('s1', 'qa', await writer.claim('s1', 'qa', spec));
    const marker = await lastRevision();
    await waitFor(async () => (await messagesOf(writer, 's1.qa')).length === 0, { message: 'marker removed' });
    // A client that saw the stop asks for its revision: the node passes by it, and checks what it runs first.
    expect(await watched.waitForRevision(marker, 5000)).toBe(true);
    expect(skipped).toBe(1);
    proxy.release();

    async function lastRevision(): Promise<number> {
      const manager = await nc().jetstreamManager();
      return (await manager.streams.info(kvStream(buckets.modulesBucket))).state.last_seq;
    }
  });
});
