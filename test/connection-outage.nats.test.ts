import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectNats } from 'nats';
import { describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, connect, createEchoModel, type NatsConnectionStatus } from '../src/index.js';
import { startCli } from './support/cli-process.js';
import { startNatsServer } from './support/nats-server.js';
import { waitFor } from './support/wait-for.js';

// Short reconnect waits keep an outage of several attempts well under a second; nothing here times the speed.
const FAST = { TETHER_RECONNECT_WAIT_MS: '100' };
const id = `${process.pid}_${Date.now()}`;

/** A node whose connection news is kept as statuses (and the rest of its reports as messages). */
async function startNode(url: string, name: string, reconnect: { maxAttempts?: number; waitMs: number }) {
  const statuses: NatsConnectionStatus[] = [];
  const runtime = await Runtime.start({
    llm: createEchoModel(),
    onError: (error) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
    nats: {
      servers: url,
      prefix: `outage_${name}_${id}`,
      variablesBucket: `outage_vars_${name}_${id}`,
      sessionsBucket: `outage_sessions_${name}_${id}`,
      modulesBucket: `outage_modules_${name}_${id}`,
      reconnect,
    },
  });
  return { runtime, statuses, prefix: `outage_${name}_${id}` };
}

const count = (text: string, pattern: RegExp): number => text.split('\n').filter((line) => pattern.test(line)).length;

// These tests stop and restart their own servers; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('connection outage', () => {
  it('a node and `tether events` outlive a NATS restart, with one line when it drops and one when it is back', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'tether-outage-'));
    let server = await startNatsServer({ storeDir });
    const port = Number(new URL(server.url).port);
    const node = await startNode(server.url, 'restart', { waitMs: 100 });
    const events = startCli(['events', '--prefix', node.prefix], { NATS_URL: server.url, ...FAST });
    try {
      await events.until('stderr', /listening on/);

      await server.stop();
      await events.until('stderr', /tether: nats: connection lost \(.*\); reconnecting every 100 ms/);
      await waitFor(() => node.statuses.includes('disconnected'), { message: 'the node reports the outage' });
      // Long enough for several attempts at 100 ms: each must not add a line.
      await new Promise((resolve) => setTimeout(resolve, 700));
      server = await startNatsServer({ storeDir, port });

      await events.until('stderr', /tether: nats: reconnected/);
      await waitFor(() => node.statuses.includes('reconnected'), { timeout: 5000, message: 'the node reconnects' });
      expect(node.statuses).toEqual(['disconnected', 'reconnected']);
      expect(count(events.output.stderr, /connection lost/)).toBe(1);
      expect(count(events.output.stderr, /reconnected/)).toBe(1);

      // The subscription came back with the connection: an event published now is printed.
      const publisher = await connectNats({ servers: server.url });
      try {
        await waitFor(
          () => {
            publisher.publish(`${node.prefix}.v1.events.s1.var.t`, JSON.stringify({ after: 'restart' }));
            return events.output.stdout.includes('"after":"restart"');
          },
          { timeout: 5000, interval: 100, message: 'an event after the restart' },
        );
      } finally {
        await publisher.close();
      }
      const stopped = await events.stop('SIGINT');
      expect(stopped.code).toBe(0);
    } finally {
      events.child.kill('SIGKILL');
      await node.runtime.stop();
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it('serve that gives up on NATS prints one line after the outage line, however much failed in the background', async () => {
    const server = await startNatsServer();
    const prefix = `outage_gaveup_${id}`;
    const env = { NATS_URL: server.url, TETHER_MAX_RECONNECTS: '1', ...FAST };
    const serve = startCli(['serve', '--prefix', prefix, '--buckets', `gv_${id},gs_${id},gm_${id}`], env);
    try {
      await serve.until('stdout', /node serving on/);
      // A session used on the node: its last use is stamped on its record, which fails once the connection is closed.
      const client = await connect({ servers: server.url, prefix });
      await (await client.session('v1')).defineVariable('n', 'integer', 1);
      await client.close();

      await server.stop();
      const served = await serve.exited;
      expect(served.code).toBe(3);
      expect(served.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^tether: nats: connection lost \(.+\); reconnecting every 100 ms, at most 1 attempt per server$/,
        ),
        'tether: nats_unreachable: connection to NATS lost',
      ]);
    } finally {
      serve.child.kill('SIGKILL');
      await server.stop();
    }
  });

  it('serve, var watch and events exit 3 with one line once NATS is gone past retries; a node reports it', async () => {
    const server = await startNatsServer();
    const node = await startNode(server.url, 'gone', { maxAttempts: 1, waitMs: 100 });
    const env = { NATS_URL: server.url, TETHER_MAX_RECONNECTS: '1', ...FAST };
    // Opened the way clients open sessions (the directory knows it): the watch's first request finds it.
    const client = await connect({ servers: server.url, prefix: node.prefix });
    await client.session('w');
    await client.close();
    const serve = startCli(['serve', '--prefix', `outage_serve_${id}`, '--buckets', `ov_${id},os_${id},om_${id}`], env);
    const watch = startCli(['var', 'watch', '-s', 'w', '--prefix', node.prefix], env);
    // Found by mutation: events ending with exit 0 when its connection closed for good passed every test.
    const events = startCli(['events', '--prefix', node.prefix], env);
    // None allowed: its line must not say it reconnects.
    const once = startCli(['events', '--prefix', node.prefix], { ...env, TETHER_MAX_RECONNECTS: '0' });
    try {
      await Promise.all([
        serve.until('stdout', /node serving on/),
        watch.until('stderr', /watching/),
        events.until('stderr', /listening on/),
        once.until('stderr', /listening on/),
      ]);
      let lost = false;
      void node.runtime.connectionLost.then(() => (lost = true));

      await server.stop();
      const [served, watched, followed, gaveUp] = await Promise.all([
        serve.exited,
        watch.exited,
        events.exited,
        once.exited,
      ]);
      for (const run of [served, watched, followed, gaveUp]) {
        expect(run.code).toBe(3);
        expect(run.stderr).toMatch(/tether: nats: connection lost/);
        expect(run.stderr.trim().split('\n').at(-1)).toBe('tether: nats_unreachable: connection to NATS lost');
      }
      expect(followed.stderr).toMatch(/; reconnecting every 100 ms, at most 1 attempt per server\n/);
      expect(gaveUp.stderr).toMatch(/; not reconnecting \(no reconnect attempt allowed\)\n/);
      await waitFor(() => lost, { message: 'connectionLost resolves' });
      expect(node.statuses).toEqual(['disconnected', 'closed']);
    } finally {
      serve.child.kill('SIGKILL');
      watch.child.kill('SIGKILL');
      events.child.kill('SIGKILL');
      once.child.kill('SIGKILL');
      // A node whose connection is gone still stops.
      await node.runtime.stop();
      await server.stop();
    }
  });
});
