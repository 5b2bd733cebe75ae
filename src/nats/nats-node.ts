/**
 * The NATS side of a node: one connection, the variables bucket (tracked, for events and read-your-writes),
 * the session directory, and the `tether` service, started once the runtime that serves it exists.
 * @module
 */
import { connect, type NatsConnection } from 'nats';
import { InternalError } from '../errors.js';
import type { Session } from '../session/session.js';
import { createNodeStore } from './node-store.js';
import { createSessionDirectory } from './session-directory.js';
import { startSessionService, type SessionService } from './session-service.js';
import type { TrackingStore } from './tracking-store.js';

/** How a node reaches NATS and names what it creates there. */
export interface NatsNodeOptions {
  /** One or more NATS URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** The connection's name, as the server's monitoring shows it. @default 'tether-node' */
  readonly name?: string;
  /** Subject prefix. @default 'tether' */
  readonly prefix?: string;
  /** The queue group the service's endpoints join; nodes sharing it share the load. @default 'tether' */
  readonly queue?: string;
  /** @default 'tether_vars' */
  readonly variablesBucket?: string;
  /** @default 'tether_sessions' */
  readonly sessionsBucket?: string;
  /** Replicas of the buckets (a clustered JetStream can keep 3). @default 1 */
  readonly replicas?: number;
  /** Writes kept per variable for history and rollback (at most 64). @default 64 */
  readonly historyDepth?: number;
}

/** A node's NATS parts, started in two steps: the store first (the runtime needs it), the service last. */
export interface NatsNode {
  readonly store: TrackingStore;
  /** Starts the service; `start` hands out the node's sessions. */
  serve(start: (sessionId: string) => Promise<Session>): Promise<void>;
  /** Stops taking requests; requests in progress finish. */
  stopServing(): Promise<void>;
  /** Closes the store and the connection. */
  close(): Promise<void>;
}

/** Connects and opens the buckets; `report` is told of failures no request waits for. */
export async function openNatsNode(options: NatsNodeOptions, report: (error: unknown, where: string) => void): Promise<NatsNode> {
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: typeof options.servers === 'string' ? options.servers : [...options.servers],
      name: options.name ?? 'tether-node',
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.pass !== undefined ? { pass: options.pass } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new InternalError(`cannot connect to NATS at ${String(options.servers)}: ${message}`, { cause: error, details: { servers: options.servers } });
  }
  try {
    const store = await createNodeStore(connection, {
      bucket: options.variablesBucket ?? 'tether_vars',
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      ...(options.historyDepth !== undefined ? { historyDepth: options.historyDepth } : {}),
      onListenerError: (error) => report(error, 'store listener'),
      onWatchError: (error) => report(error, 'store watch'),
      onTrackingError: (error) => report(error, 'store tracking'),
    });
    const directory = await createSessionDirectory(connection, {
      bucket: options.sessionsBucket ?? 'tether_sessions',
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    });
    let service: SessionService | undefined;
    return {
      store,
      async serve(start) {
        service = await startSessionService(connection, directory.provider(start), {
          store,
          ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
          ...(options.queue !== undefined ? { queue: options.queue } : {}),
          onError: report,
        });
      },
      async stopServing() {
        await service?.stop();
      },
      async close() {
        await store.close();
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
