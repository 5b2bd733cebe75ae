import { afterEach, describe, expect, it } from 'vitest';
import { NatsConnectionError, Runtime, type NatsConnectionStatus } from '../../src/index.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { startCli } from '../support/cli-process.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** A proxy the test cuts, and `cut`/`restore` that resolve once whoever reports `statuses` has seen it happen. */
async function cuttable(statuses: readonly NatsConnectionStatus[]) {
  const proxy = await startTcpProxy(fx().server.url);
  proxies.push(proxy);
  const count = (status: NatsConnectionStatus): number => statuses.filter((s) => s === status).length;
  return {
    url: proxy.url,
    async cut() {
      const before = count('disconnected');
      proxy.cut();
      await waitFor(() => count('disconnected') > before, { message: 'the client sees its connection drop' });
    },
    async restore() {
      const before = count('reconnected');
      proxy.restore();
      await waitFor(() => count('reconnected') > before, { message: 'the client reconnects' });
    },
  };
}

/** A remote client whose connection alone goes through a proxy the test cuts (every other one carries on). */
async function cuttableClient() {
  const statuses: NatsConnectionStatus[] = [];
  const link = await cuttable(statuses);
  const client = await fx().client({
    servers: link.url,
    // Short waits: back within ~50 ms of the restore; nothing here times the speed.
    reconnect: { waitMs: 50 },
    onError: (error) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
  });
  return { client, cut: link.cut, restore: link.restore };
}

/** Changes as `[version, oldValue, newValue]`, with `gap` and `deleted` appended when set. */
const brief = (changes: readonly VariableChange[]): unknown[][] =>
  changes.map((c) => [c.version, c.oldValue, c.newValue, ...(c.deleted ? ['deleted'] : []), ...(c.gap ? ['gap'] : [])]);

describe('remote watch catch-up', () => {
  it('delivers, in version order, the writes made while its connection was down', async () => {
    await fx().node(fx().buckets());
    const writer = await (await fx().client()).session('blip');
    await writer.defineVariable('x', 'integer', 0);
    const watcher = await cuttableClient();
    const seen: VariableChange[] = [];
    await (await watcher.client.session('blip')).watchVariables('x', (change) => seen.push(change));
    await writer.setVariable('x', 1);
    await waitFor(() => seen.length === 1, { message: 'the write before the outage' });

    await watcher.cut();
    for (let value = 2; value <= 4; value++) await writer.setVariable('x', value, { updatedBy: `w${value}` });
    await watcher.restore();
    await waitFor(() => seen.length === 4, { message: 'the writes made during the outage' });
    await writer.setVariable('x', 5);
    await waitFor(() => seen.length === 5, { message: 'the write after the outage' });

    expect(brief(seen)).toEqual([
      [2, 0, 1],
      [3, 1, 2],
      [4, 2, 3],
      [5, 3, 4],
      [6, 4, 5],
    ]);
    expect(seen.slice(1, 4).map((c) => c.updatedBy)).toEqual(['w2', 'w3', 'w4']);
  });

  it('catches a glob up on changed, new and deleted variables, and on nothing it does not match', async () => {
    await fx().node(fx().buckets());
    const writer = await (await fx().client()).session('glob');
    await writer.defineVariable('cfg_a', 'integer', 0);
    await writer.defineVariable('cfg_gone', 'string', 'bye');
    await writer.defineVariable('other', 'integer', 0);
    const watcher = await cuttableClient();
    const seen: VariableChange[] = [];
    await (await watcher.client.session('glob')).watchVariables('cfg_*', (change) => seen.push(change));

    await watcher.cut();
    await writer.setVariable('cfg_a', 1);
    await writer.setVariable('cfg_a', 2);
    await writer.defineVariable('cfg_new', 'string', 'n1');
    await writer.setVariable('cfg_new', 'n2');
    await writer.deleteVariable('cfg_gone');
    await writer.setVariable('other', 1);
    await watcher.restore();
    await waitFor(() => seen.length === 5, { message: 'the changes made during the outage' });
    await writer.setVariable('cfg_new', 'n3');
    await waitFor(() => seen.length === 6, { message: 'the write after the outage' });

    const of = (name: string) => brief(seen.filter((c) => c.name === name));
    expect(of('cfg_a')).toEqual([
      [2, 0, 1],
      [3, 1, 2],
    ]);
    // Defined meanwhile: from its first version on.
    expect(of('cfg_new')).toEqual([
      [1, undefined, 'n1'],
      [2, 'n1', 'n2'],
      [3, 'n2', 'n3'],
    ]);
    // Deleted meanwhile: the delete is known, not its own version or old value.
    expect(of('cfg_gone')).toEqual([[2, undefined, undefined, 'deleted', 'gap']]);
    expect(seen.map((c) => c.name)).not.toContain('other');
  });

  it('marks a gap where the missed versions are past the history depth, then goes on from the kept ones', async () => {
    const runtime = await Runtime.start({
      onError: () => {},
      nats: { servers: fx().server.url, ...fx().buckets(), historyDepth: 2 },
    });
    try {
      const writer = await (await fx().client()).session('deep');
      await writer.defineVariable('x', 'integer', 0);
      const watcher = await cuttableClient();
      const seen: VariableChange[] = [];
      await (await watcher.client.session('deep')).watchVariables('x', (change) => seen.push(change));

      await watcher.cut();
      for (let value = 1; value <= 5; value++) await writer.setVariable('x', value);
      await watcher.restore();
      await waitFor(() => seen.length === 2, { message: 'the kept versions' });

      // Versions 2 to 4 are no longer kept: version 5 comes first, marked, and without the old value.
      expect(brief(seen)).toEqual([
        [5, undefined, 4, 'gap'],
        [6, 4, 5],
      ]);
    } finally {
      await runtime.stop();
    }
  });

  it('tells a variable deleted and defined again meanwhile from the one it watched', async () => {
    await fx().node(fx().buckets());
    const writer = await (await fx().client()).session('again');
    await writer.defineVariable('x', 'integer', 0);
    await writer.setVariable('x', 1);
    await writer.setVariable('x', 2);
    const watcher = await cuttableClient();
    const seen: VariableChange[] = [];
    await (
      await watcher.client.session('again')
    ).watchVariables('x', (change) => seen.push(change), {
      includeInitial: true,
    });

    await watcher.cut();
    await writer.deleteVariable('x');
    await writer.defineVariable('x', 'integer', 10);
    await writer.setVariable('x', 11);
    await watcher.restore();
    await waitFor(() => seen.length === 4, { message: 'the changes made during the outage' });

    // The new variable's versions start again at 1, below the old one's 3: still delivered.
    expect(brief(seen)).toEqual([
      [3, undefined, 2],
      [4, undefined, undefined, 'deleted', 'gap'],
      [1, undefined, 10],
      [2, 10, 11],
    ]);
  });

  it('delivers each version once and in order while writes from two nodes go on through the outage', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await fx().node(buckets);
    const writer = await (await fx().client()).session('busy');
    await writer.defineVariable('n', 'integer', 0);
    const watcher = await cuttableClient();
    const seen: VariableChange[] = [];
    await (
      await watcher.client.session('busy')
    ).watchVariables('n', (change) => seen.push(change), {
      includeInitial: true,
    });

    const writes = 60;
    let written = 0;
    const writing = (async () => {
      for (let value = 1; value <= writes; value++) {
        await writer.setVariable('n', value);
        written = value;
      }
    })();
    await waitFor(() => written >= 10, { message: 'writes before the outage' });
    await watcher.cut();
    const cutAt = written;
    await waitFor(() => written >= cutAt + 10, { message: 'writes during the outage' });
    // Restored while the writes go on: events arrive while the watch catches up.
    await watcher.restore();
    await writing;
    await waitFor(() => seen.at(-1)?.version === writes + 1, { message: 'the last write' });

    expect(seen.map((c) => c.version)).toEqual(Array.from({ length: writes + 1 }, (_, i) => i + 1));
    expect(seen.map((c) => c.newValue)).toEqual(Array.from({ length: writes + 1 }, (_, i) => i));
    expect(seen.some((c) => c.gap)).toBe(false);
  });

  it('tether var watch prints the changes made while its connection was down', async () => {
    await fx().node(fx().buckets());
    const writer = await (await fx().client()).session('cli');
    await writer.defineVariable('x', 'integer', 0);
    const statuses: NatsConnectionStatus[] = [];
    const link = await cuttable(statuses);
    const watch = startCli(['var', 'watch', 'x', '--session', 'cli'], {
      NATS_URL: link.url,
      TETHER_RECONNECT_WAIT_MS: '50',
    });
    try {
      await watch.until('stderr', /watching/);
      // The CLI's connection news comes on its stderr: kept as statuses for cut() and restore().
      const follow = setInterval(() => {
        const lines = watch.output.stderr.split('\n');
        statuses.length = 0;
        for (const line of lines) {
          if (/connection lost/.test(line)) statuses.push('disconnected');
          if (/reconnected/.test(line)) statuses.push('reconnected');
        }
      }, 5);
      try {
        await link.cut();
        for (let value = 1; value <= 3; value++) await writer.setVariable('x', value);
        await link.restore();
      } finally {
        clearInterval(follow);
      }
      const lines = (): VariableChange[] =>
        watch.output.stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as VariableChange);
      await waitFor(() => lines().length === 3, { message: 'three lines' });
      expect(brief(lines())).toEqual([
        [2, 0, 1],
        [3, 1, 2],
        [4, 2, 3],
      ]);
    } finally {
      await watch.stop('SIGINT');
    }
  });
});
