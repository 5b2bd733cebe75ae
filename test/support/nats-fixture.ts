/**
 * Per-file NATS fixture for the node tests: one server for the file, fresh bucket names per test, and a
 * registry of everything a test starts so `cleanup()` stops it even when the test failed halfway.
 */
import { startNatsServer, type NatsTestServer } from './nats-server.js';
import { startTestNode, type TestNode, type TestNodeOptions } from './tether-node.js';
import { connect as connectClient, type ConnectOptions, type TetherClient } from '../../src/nats/remote-client.js';

let counter = 0;

/** What one test file uses. */
export interface NatsFixture {
  readonly server: NatsTestServer;
  /** Fresh bucket names for one test's nodes (all nodes of a test share them). */
  buckets(): Pick<TestNodeOptions, 'bucket' | 'sessionsBucket'>;
  /** Starts a node that `cleanup` stops. */
  node(buckets: Pick<TestNodeOptions, 'bucket' | 'sessionsBucket'>, options?: Omit<TestNodeOptions, 'bucket' | 'sessionsBucket'>): Promise<TestNode>;
  /** Connects a remote client that `cleanup` closes. */
  client(options?: Omit<ConnectOptions, 'servers'>): Promise<TetherClient>;
  /** Stops every node and client started since the last cleanup. */
  cleanup(): Promise<void>;
}

/** Starts the server; call `stop` on the returned server in `afterAll`. */
export async function startNatsFixture(): Promise<NatsFixture> {
  const server = await startNatsServer();
  const nodes: TestNode[] = [];
  const clients: TetherClient[] = [];
  return {
    server,
    buckets() {
      counter += 1;
      const id = `${process.pid}_${Date.now()}_${counter}`;
      return { bucket: `vars_${id}`, sessionsBucket: `sessions_${id}` };
    },
    async node(buckets, options = {}) {
      const node = await startTestNode(server.url, { ...buckets, ...options });
      nodes.push(node);
      return node;
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
