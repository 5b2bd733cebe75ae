/**
 * A whole Tether NATS node for tests: its own connection, the tracked KV store, a Runtime on it, the session
 * directory and the session service. The small adapter the lead's `Runtime.start({ nats })` will replace.
 */
import { connect, type NatsConnection } from 'nats';
import { Runtime } from '../../src/node/runtime.js';
import { createNodeStore } from '../../src/nats/node-store.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import {
  startSessionService,
  type SessionService,
  type SessionServiceOptions,
} from '../../src/nats/session-service.js';
import type { TrackingStore } from '../../src/nats/tracking-store.js';

/** A running test node. */
export interface TestNode {
  readonly connection: NatsConnection;
  readonly store: TrackingStore;
  readonly runtime: Runtime;
  readonly service: SessionService;
  /** Stops the service (draining in-flight requests), the runtime and the connection. */
  stop(): Promise<void>;
}

/** Options of {@link startTestNode}. */
export interface TestNodeOptions {
  /** Variables bucket; tests use their own so they never share keys. */
  readonly bucket: string;
  /** Directory bucket. */
  readonly sessionsBucket: string;
  readonly service?: Omit<SessionServiceOptions, 'store'>;
  /** Builds the node's store instead of `createNodeStore` (to slow its router down, say). */
  readonly store?: (connection: NatsConnection) => Promise<TrackingStore>;
}

/** Starts a node on the server at `url`. */
export async function startTestNode(url: string, options: TestNodeOptions): Promise<TestNode> {
  const connection = await connect({ servers: url });
  const store = options.store
    ? await options.store(connection)
    : await createNodeStore(connection, { bucket: options.bucket, onListenerError: () => {} });
  const runtime = await Runtime.start({ store, onError: () => {} });
  const directory = await createSessionDirectory(connection, { bucket: options.sessionsBucket });
  const service = await startSessionService(
    connection,
    directory.provider((id) => runtime.session(id)),
    {
      store,
      onError: () => {},
      ...options.service,
    },
  );
  let stopped: Promise<void> | undefined;
  return {
    connection,
    store,
    runtime,
    service,
    stop() {
      stopped ??= (async () => {
        await service.stop();
        await runtime.stop();
        await store.close();
        await connection.close();
      })();
      return stopped;
    },
  };
}
