import { describe, expect, it } from 'vitest';
import {
  ModuleNotFoundError,
  NatsConnectionError,
  NoProcError,
  Runtime,
  createEchoModel,
  type NatsConnectionStatus,
  type RemoteModuleHandle,
  type RemoteSession,
} from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const chain = { type: 'ChainOfThought', signature: 'question:string -> reply:string' } as const;
const qaProcess = moduleProcessName('s1', 'qa');

/** Node B: on the test's buckets, connected through a proxy the test can cut; its connection news kept. */
async function startNodeBehind(proxy: TcpProxy, buckets: TestBuckets) {
  const statuses: NatsConnectionStatus[] = [];
  const runtime = await Runtime.start({
    llm: createEchoModel(),
    onError: (error) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
    // Short waits: B is back within ~100 ms of the proxy.
    nats: { servers: proxy.url, name: 'behind-proxy', ...buckets, reconnect: { waitMs: 100 } },
  });
  return { runtime, statuses };
}

/** What a test of {@link moduleOnCutNode} gets. */
interface Scene {
  readonly buckets: TestBuckets;
  readonly a: Runtime;
  readonly b: Awaited<ReturnType<typeof startNodeBehind>>;
  readonly proxy: TcpProxy;
  readonly session: RemoteSession;
  readonly qa: RemoteModuleHandle;
}

/**
 * Two nodes, A on the server and B behind a proxy, and a client's module `qa` (Predict) of session `s1` with a
 * process on B (it runs wherever requests land: executions go on until one landed on B). Then B is cut off.
 */
async function moduleOnCutNode(run: (scene: Scene) => Promise<void>): Promise<void> {
  const buckets = fx().buckets();
  const proxy = await startTcpProxy(fx().server.url);
  const a = await fx().node(buckets, { llm: createEchoModel() });
  const b = await startNodeBehind(proxy, buckets);
  try {
    const client = await fx().client();
    const session = await client.session('s1');
    const qa = await session.module('qa', predict);
    await waitFor(
      async () => {
        await qa.execute({ question: 'x' });
        return b.runtime.whereis(qaProcess);
      },
      { message: 'node B runs qa' },
    );
    proxy.cut();
    await waitFor(() => b.statuses.includes('disconnected'), { message: 'node B sees the outage' });
    await run({ buckets, a: a.runtime, b, proxy, session, qa });
  } finally {
    await b.runtime.stop();
    await proxy.close();
  }
}

/** Runs `request` once node B, the only node left, has its service back (no responders until then). */
function onceServed<T>(request: () => Promise<T>): Promise<T> {
  return waitFor(
    async () => {
      try {
        return { value: await request() };
      } catch (error) {
        if (error instanceof NoProcError) return undefined;
        throw error;
      }
    },
    { message: 'node B answers' },
  ).then((served) => served.value);
}

describe('module stop missed by a node that was offline', () => {
  it('stops the process of a module stopped while its node was offline, once the node is back', async () => {
    await moduleOnCutNode(async ({ b, proxy, qa }) => {
      // Only node A can take it; B never gets the stop's control message.
      await qa.stop();
      proxy.restore();
      await waitFor(() => b.runtime.whereis(qaProcess) === undefined, {
        timeout: 15_000,
        message: "node B's process of the stopped module stops",
      });
      for (let i = 0; i < 6; i++)
        await expect(qa.execute({ question: 'y' })).rejects.toBeInstanceOf(ModuleNotFoundError);
    });
  });

  it("stops it too when the stop's marker left the bucket before the node was back", async () => {
    await moduleOnCutNode(async ({ buckets, b, proxy, qa }) => {
      await qa.stop();
      // What the marker's late removal does (late-removals.ts), done at once: nothing of the stop is left to read.
      const manager = await nc().jetstreamManager();
      const stream = `KV_${buckets.modulesBucket}`;
      const marker = await manager.streams.getMessage(stream, { last_by_subj: `$KV.${buckets.modulesBucket}.s1.qa` });
      expect(marker.header.get('KV-Operation')).toBe('DEL');
      await manager.streams.deleteMessage(stream, marker.seq);
      proxy.restore();

      // No request reaches B for it: the node checks what it runs once it is back.
      await waitFor(() => b.runtime.whereis(qaProcess) === undefined, {
        timeout: 15_000,
        message: "node B's process of the stopped module stops",
      });
      expect(await (await b.runtime.session('s1')).modules()).toEqual([]);
    });
  });

  it('lets that node create the id again, and then runs only the new spec', async () => {
    await moduleOnCutNode(async ({ a, b, proxy, session, qa }) => {
      await qa.stop();
      // From now on every request lands on node B.
      await a.stop();
      proxy.restore();
      await waitFor(() => b.statuses.includes('reconnected'), { timeout: 15_000, message: 'node B reconnects' });
      const again = await onceServed(() => session.module('qa', chain));
      expect((await again.execute({ question: 'z' })).moduleType).toBe('ChainOfThought');
      await again.stop();
      await expect(again.execute({ question: 'z' })).rejects.toBeInstanceOf(ModuleNotFoundError);
    });
  });

  it('runs only the new spec of a module stopped and created again while its node was offline', async () => {
    await moduleOnCutNode(async ({ a, b, proxy, session, qa }) => {
      await qa.stop();
      const again = await session.module('qa', chain);
      await a.stop();
      proxy.restore();
      await waitFor(() => b.statuses.includes('reconnected'), { timeout: 15_000, message: 'node B reconnects' });
      const result = await onceServed(() => again.execute({ question: 'z' }));
      expect(result.moduleType).toBe('ChainOfThought');
      expect(Object.keys(result.output)).toEqual(['reply']);
    });
  });
});
