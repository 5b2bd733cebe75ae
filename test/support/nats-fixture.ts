/**
 * Per-file NATS fixture for the node tests: one server for the file, fresh bucket names per test, real
 * `Runtime.start({ nats })` nodes, and a registry of everything a test starts so `cleanup()` stops it even when
 * the test failed halfway.
 */
import { connect as connectNats, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Runtime } from '../../src/node/runtime.js';
import { connect as connectClient, type ConnectOptions, type TetherClient } from '../../src/nats/remote-client.js';
import { startAssembledNode, type AssembledNode, type AssembledNodeOptions } from './assembled-node.js';
import { startNatsServer, type NatsTestServer, type StartNatsServerOptions } from './nats-server.js';
import { startTestNode, type TestBuckets, type TestNode, type TestNodeOptions } from './tether-node.js';

export type { TestBuckets } from './tether-node.js';

let counter = 0;

/** What one test file uses. */
export interface NatsFixture {
  readonly server: NatsTestServer;
  /** Fresh bucket names for one test's nodes (all nodes of a test share them). */
  buckets(): TestBuckets;
  /**
   * Starts a real `Runtime.start({ nats })` node on the buckets that `cleanup` stops; errors are swallowed
   * unless `onError` is given. Nodes start one at a time, even when asked for together.
   */
  node(buckets: TestBuckets, options?: TestNodeOptions): Promise<TestNode>;
  /** {@link NatsFixture.node}, for a test that needs only its runtime. */
  runtime(buckets: TestBuckets, options?: TestNodeOptions): Promise<Runtime>;
  /**
   * Special purpose, for the read-your-writes tests only: a node assembled by hand, whose store a test can
   * replace or ask (see assembled-node.ts). `cleanup` stops it.
   */
  assembledNode(buckets: TestBuckets, options?: AssembledNodeOptions): Promise<AssembledNode>;
  /** Connects a remote client that `cleanup` closes; to the fixture's server unless `servers` says otherwise. */
  client(options?: Partial<ConnectOptions>): Promise<TetherClient>;
  /** Stops every node and client started since the last cleanup. */
  cleanup(): Promise<void>;
  /** Closes the fixture's own connection and stops the server. */
  close(): Promise<void>;
}

/**
 * What a fixture runs on: a server started with these options (e.g. a smaller `maxPayload`), or one that `start`
 * provides (a cluster member's URL, say; the fixture's `close` calls its `stop`).
 */
export type NatsFixtureServer = StartNatsServerOptions | (() => Promise<NatsTestServer>);

/** Starts the server (see {@link NatsFixtureServer}); call `close` on the returned fixture in `afterAll`. */
export async function startNatsFixture(options: NatsFixtureServer = {}): Promise<NatsFixture> {
  const server = typeof options === 'function' ? await options() : await startNatsServer(options);
  // The fixture's own connection: it finds each node's service instance and reads its $SRV.STATS.
  const connection = await connectNats({ servers: server.url });
  const knownServiceIds = new Set<string>();
  const nodes: { stop(): Promise<void> }[] = [];
  const clients: TetherClient[] = [];
  // A node is told apart from the others by being the one new service instance: starts must not overlap.
  let starting: Promise<unknown> = Promise.resolve();
  const node = (buckets: TestBuckets, options?: TestNodeOptions): Promise<TestNode> => {
    const next = starting.then(() => startTestNode({ url: server.url, connection, knownServiceIds }, buckets, options));
    starting = next.catch(() => {});
    return next.then((started) => {
      nodes.push(started);
      return started;
    });
  };
  return {
    server,
    buckets() {
      counter += 1;
      const id = `${process.pid}_${Date.now()}_${counter}`;
      return { variablesBucket: `vars_${id}`, sessionsBucket: `sessions_${id}`, modulesBucket: `modules_${id}` };
    },
    node,
    async runtime(buckets, options) {
      return (await node(buckets, options)).runtime;
    },
    async assembledNode(buckets, options) {
      const assembled = await startAssembledNode(server.url, buckets, options);
      // Its service answers $SRV.PING too: a real node started after it must not take its id for its own.
      knownServiceIds.add(assembled.serviceId);
      nodes.push(assembled);
      return assembled;
    },
    async client(options = {}) {
      const client = await connectClient({ servers: server.url, onError: () => {}, ...options });
      clients.push(client);
      return client;
    },
    async cleanup() {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
      await Promise.allSettled(nodes.splice(0).map((started) => started.stop()));
    },
    async close() {
      await connection.close();
      await server.stop();
    },
  };
}

/**
 * Registers a file's fixture hooks: the server starts before its first test, everything a test started stops
 * after it, the server stops after the last; `options` configure the server or start it. Returns the getter of the fixture
 * (valid once `beforeAll` ran).
 * @example
 * const fx = useNatsFixture();
 * it('...', async () => { const node = await fx().node(fx().buckets()); });
 */
export function useNatsFixture(options: NatsFixtureServer = {}): () => NatsFixture {
  let fixture: NatsFixture | undefined;
  beforeAll(async () => {
    fixture = await startNatsFixture(options);
  });
  afterEach(async () => {
    await fixture?.cleanup();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  return () => {
    if (!fixture) throw new Error('the NATS fixture is used before its beforeAll hook ran');
    return fixture;
  };
}

/**
 * A plain `nats` connection to the fixture's server for a test file (as any client in any language would have),
 * opened before its tests and closed after them. Call after {@link useNatsFixture}, at the top of the file.
 */
export function usePlainConnection(fx: () => NatsFixture): () => NatsConnection {
  let connection: NatsConnection | undefined;
  beforeAll(async () => {
    connection = await connectNats({ servers: fx().server.url });
  });
  afterAll(async () => {
    await connection?.close();
  });
  return () => {
    if (!connection) throw new Error('the plain connection is used before its beforeAll hook ran');
    return connection;
  };
}
