/**
 * A node whose NATS server comes back without JetStream: its watches of the variables and modules buckets cannot
 * reopen, and after SLOW_REOPEN_ATTEMPTS failed attempts (about a minute, backing off to 2 s; here the backoff is
 * lowered, the count is what the report waits for) the node says so to `onError` once for each, as a
 * `store_unavailable` naming the bucket and what is missing, the server's INFO read after the reconnect. Its reads
 * and writes meanwhile fail after `unavailableRetryMs` saying the same.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, StoreUnavailableError } from '../../src/index.js';
import { createEchoModel } from '../../src/modules/index.js';
import { openingBackoff } from '../../src/nats/kv-watch-consumer.js';
import { freePorts, spawnNatsServer, type NatsProcess } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

/** A nats-server on `port` keeping its JetStream store (if it runs JetStream) in `dir`. */
function server(port: number, jetstream: boolean, dir: string): Promise<NatsProcess> {
  const js = jetstream ? ['-js', '-sd', join(dir, 'store')] : [];
  return spawnNatsServer(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), ...js, '--ports_file_dir', dir],
    dir,
    10_000,
  );
}

describe('a node whose NATS server comes back without JetStream', () => {
  // Found in review: the report was nats.js's own NatsError, a bare "503", naming neither the bucket nor the cause.
  it('tells onError once for each watch slow to reopen, naming the bucket and that JetStream is not enabled', async () => {
    // The report comes after a number of failed attempts, not a time: backing off to 0.1 s rather than 2 s between
    // them gets there in seconds rather than a minute.
    const { maxMs } = openingBackoff;
    openingBackoff.maxMs = 100;
    onTestFinished(() => {
      openingBackoff.maxMs = maxMs;
    });
    const dir = await mkdtemp(join(tmpdir(), 'tether-watch-nojs-'));
    const [port] = await freePorts(1);
    let nats = await server(port!, true, dir);
    const reports: { where: string; error: unknown }[] = [];
    const runtime = await Runtime.start({
      llm: createEchoModel(),
      // Bounds only what the stop writes to a server without JetStream (it waited out the default 15 s); a reopen is
      // not bounded by it and goes on trying.
      nats: { servers: nats.url, unavailableRetryMs: 1000 },
      onError: (error, where) => reports.push({ where, error }),
    });
    onTestFinished(async () => {
      await runtime.stop().catch(() => {});
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await nats.stop();
    nats = await server(port!, false, dir);

    // Each of the node's bucket watches (the variables' and the modules') says so, once.
    const slow = (bucket: string) =>
      reports.filter(({ where }) => where === `store watch of '${bucket}' (cannot reopen yet; still trying)`);
    const buckets = ['tether_vars', 'tether_modules'];
    await waitFor(() => buckets.every((bucket) => slow(bucket).length > 0), {
      timeout: 100_000,
      interval: 200,
      message: 'the slow reopens told',
    });
    for (const bucket of buckets) {
      expect(slow(bucket)).toHaveLength(1);
      const { error } = slow(bucket)[0]!;
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({
        code: 'store_unavailable',
        details: { bucket, operation: 'watch', stillTrying: true },
      });
      expect((error as Error).message).toContain(
        'JetStream is not enabled on this NATS server (start nats-server with -js',
      );
    }
  }, 150_000);

  // Found in an audit: a `tether var set` while the server ran without JetStream waited 15 s and then said the bucket
  // "had no JetStream leader answering", as for a cluster electing one, where nothing was electing anything.
  it('fails a write meanwhile with store_unavailable saying that JetStream is not enabled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tether-write-nojs-'));
    const [port] = await freePorts(1);
    let nats = await server(port!, true, dir);
    const reports: unknown[] = [];
    const runtime = await Runtime.start({
      llm: createEchoModel(),
      nats: { servers: nats.url, unavailableRetryMs: 300 },
      onError: (error) => reports.push(error),
    });
    onTestFinished(async () => {
      await runtime.stop().catch(() => {});
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const session = await runtime.session('s1');
    await session.defineVariable('n', 'integer', 1);
    await nats.stop();
    nats = await server(port!, false, dir);
    await waitFor(() => reports.some((error) => /^reconnected/.test((error as Error).message)), {
      timeout: 20_000,
      message: 'the node back on the server',
    });

    const error = await session.setVariable('n', 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: 'store_unavailable', details: { outcome: 'not_applied' } });
    expect((error as Error).message).toContain(
      'JetStream is not enabled on this NATS server (start nats-server with -js',
    );
    expect((error as Error).message).not.toContain('no JetStream leader');
    expect(await session.getVariable('n')).toBe(1);
  }, 60_000);
});
