import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  NatsConnectionError,
  Runtime,
  StoreUnavailableError,
  createEchoModel,
  type ModuleTool,
  type NatsConnectionStatus,
} from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function cannot be written to the modules bucket: the module stays on the node creating it. */
const localSpec = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [echoTool] } as const;
const modulesBucket = `outage_claims_${process.pid}_${Date.now()}`;

// This test stops and restarts its own server; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('module claims during a NATS outage', () => {
  it('refuses a creation with store_unavailable naming it, and gives back the ids of modules ended meanwhile once back', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'tether-claims-outage-'));
    let server: NatsTestServer = await startNatsServer({ storeDir });
    const port = Number(new URL(server.url).port);
    onTestFinished(async () => {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    });
    const statuses: NatsConnectionStatus[] = [];
    const runtime = await Runtime.start({
      llm: createEchoModel(),
      onError: (error) => {
        if (error instanceof NatsConnectionError) statuses.push(error.status);
      },
      nats: { servers: server.url, modulesBucket, reconnect: { waitMs: 100 } },
    });
    onTestFinished(() => runtime.stop());
    const session = await runtime.session('s1');
    const before = await session.module('before', localSpec);

    await server.stop();
    await waitFor(() => statuses.includes('disconnected'), { message: 'the node sees the outage' });
    const during = session.module('during', localSpec);

    await expect(during).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(during).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringContaining(`create of module 'during' in session 's1'`),
    });
    // Ended during the outage: its claim cannot go now, and the stop does not wait for it.
    await before.stop();

    server = await startNatsServer({ storeDir, port });
    await waitFor(() => statuses.includes('reconnected'), { timeout: 10_000, message: 'the node is back' });
    const watcher = await connect({ servers: server.url });
    onTestFinished(() => watcher.close());
    const kv = await watcher.jetstream().views.kv(modulesBucket);
    await waitFor(async () => (await kv.get('s1.before'))?.operation === 'DEL', {
      timeout: 10_000,
      message: 'the claim of the module ended during the outage given back',
    });
    expect(await kv.get('s1.during')).toBeNull();
    await session.module('during', localSpec);
  }, 30_000);
});
