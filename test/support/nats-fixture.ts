/**
 * Per-file NATS fixture for the node tests: one server for the file, fresh bucket names per test, and a
 * registry of everything a test starts so `cleanup()` stops it even when the test failed halfway.
 */
import { connect as connectNats, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Runtime, type RuntimeOptions } from '../../src/node/runtime.js';
import { startNatsServer, type NatsTestServer, type StartNatsServerOptions } from './nats-server.js';
import { startTestNode, type TestNode, type TestNodeOptions } from './tether-node.js';
import { connect as connectClient, type ConnectOptions, type TetherClient } from '../../src/nats/remote-client.js';

let counter = 0;

/** The bucket names one test's nodes share. */
export type TestBuckets = Pick<TestNodeOptions, 'bucket' | 'sessionsBucket'> & { readonly modulesBucket: string };

/** What one test file uses. */
export interface NatsFixture {
  readonly server: NatsTestServer;
  /** Fresh bucket names for one test's nodes (all nodes of a test share them). */
  buckets(): TestBuckets;
  /** Starts a node that `cleanup` stops. */
  node(
    buckets: Pick<TestNodeOptions, 'bucket' | 'sessionsBucket'>,
    options?: Omit<TestNodeOptions, 'bucket' | 'sessionsBucket'>,
  ): Promise<TestNode>;
  /**
   * Starts a real `Runtime.start({ nats })` node on the buckets (modules included) that `cleanup` stops; errors
   * are swallowed unless `onError` is given.
   */
  runtime(buckets: TestBuckets, options?: Omit<RuntimeOptions, 'nats' | 'store'>): Promise<Runtime>;
  /** Connects a remote client that `cleanup` closes. */
  client(options?: Omit<ConnectOptions, 'servers'>): Promise<TetherClient>;
  /** Stops every node and client started since the last cleanup. */
  cleanup(): Promise<void>;
}

/** Starts the server (with `options`, e.g. a smaller `maxPayload`); call `stop` on it in `afterAll`. */
export async function startNatsFixture(options: StartNatsServerOptions = {}): Promise<NatsFixture> {
  const server = await startNatsServer(options);
  const nodes: { stop(): Promise<void> }[] = [];
  const clients: TetherClient[] = [];
  return {
    server,
    buckets() {
      counter += 1;
      const id = `${process.pid}_${Date.now()}_${counter}`;
      return { bucket: `vars_${id}`, sessionsBucket: `sessions_${id}`, modulesBucket: `modules_${id}` };
    },
    async node(buckets, options = {}) {
      const node = await startTestNode(server.url, {
        bucket: buckets.bucket,
        sessionsBucket: buckets.sessionsBucket,
        ...options,
      });
      nodes.push(node);
      return node;
    },
    async runtime(buckets, options = {}) {
      const runtime = await Runtime.start({
        onError: () => {},
        ...options,
        nats: {
          servers: server.url,
          variablesBucket: buckets.bucket,
          sessionsBucket: buckets.sessionsBucket,
          modulesBucket: buckets.modulesBucket,
        },
      });
      nodes.push(runtime);
      return runtime;
    },
    async client(options = {}) {
      const client = await connectClient({ servers: server.url, onError: () => {}, ...options });
      clients.push(client);
      return client;
    },
    async cleanup() {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
      await Promise.allSettled(nodes.splice(0).map((node) => node.stop()));
    },
  };
}

/**
 * Registers a file's fixture hooks: the server starts before its first test, everything a test started stops
 * after it, the server stops after the last; `options` configure the server. Returns the getter of the fixture (valid once `beforeAll` ran).
 * @example
 * const fx = useNatsFixture();
 * it('...', async () => { const node = await fx().node(fx().buckets()); });
 */
export function useNatsFixture(options: StartNatsServerOptions = {}): () => NatsFixture {
  let fixture: NatsFixture | undefined;
  beforeAll(async () => {
    fixture = await startNatsFixture(options);
  });
  afterEach(async () => {
    await fixture?.cleanup();
  });
  afterAll(async () => {
    await fixture?.server.stop();
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
