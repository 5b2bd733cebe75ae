/**
 * Special purpose: a node assembled by hand from its NATS parts (connection, tracked KV store, Runtime on that
 * store, session directory, session service), for the read-your-writes tests that must reach inside a node,
 * which `Runtime.start({ nats })` does not allow: give it a store whose router lags, or ask its store which
 * revision it has applied. It has no module endpoints. Every other test starts real nodes (tether-node.ts).
 */
import { connect, type NatsConnection } from 'nats';
import { Runtime } from '../../src/node/runtime.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { startSessionService } from '../../src/nats/session-service.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';
import type { TestBuckets, TestNode } from './tether-node.js';

/** A running hand-assembled node: a {@link TestNode} whose store a test can reach. */
export interface AssembledNode extends TestNode {
  readonly store: TrackingStore;
}

/** Options of {@link startAssembledNode}. */
export interface AssembledNodeOptions {
  /** Builds the node's store instead of `createNodeStore` (to slow its router down, say). */
  readonly store?: (connection: NatsConnection) => Promise<TrackingStore>;
}

let assembled = 0;

/** Starts a hand-assembled node on the server at `url`. */
export async function startAssembledNode(
  url: string,
  buckets: Pick<TestBuckets, 'variablesBucket' | 'sessionsBucket'>,
  options: AssembledNodeOptions = {},
): Promise<AssembledNode> {
  assembled += 1;
  const connectionName = `assembled-node-${process.pid}-${assembled}`;
  const connection = await connect({ servers: url, name: connectionName });
  const store = options.store
    ? await options.store(connection)
    : await createNodeStore(connection, { bucket: buckets.variablesBucket, onListenerError: () => {} });
  const runtime = await Runtime.start({ store, onError: () => {} });
  const directory = await createSessionDirectory(connection, { bucket: buckets.sessionsBucket });
  const service = await startSessionService(
    connection,
    directory.provider((id) => runtime.session(id)),
    { store, onError: () => {} },
  );
  let stopped: Promise<void> | undefined;
  return {
    runtime,
    store,
    serviceId: service.id,
    connectionName,
    requestsServed: () => Promise.resolve(service.requestCount),
    stop() {
      stopped ??= (async () => {
        await service.stop();
        await runtime.stop();
        await service.closeEvents();
        await store.close();
        await connection.close();
      })();
      return stopped;
    },
  };
}
