/**
 * The setup the CLI's NATS test files share: one nats-server for the file and one Tether node on it (echo model,
 * default prefix, buckets named after the file's `id`), started before the file's tests and stopped after them,
 * and the CLI runners pointed at that server.
 */
import { afterAll, beforeAll } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { cliRunners, type CliRunners } from './cli-runners.js';
import { startNatsServer, type NatsTestServer } from './nats-server.js';

/** The runners, the server (read it inside a test), and the `id` in the names of the node's buckets. */
export interface CliNode extends CliRunners {
  /** Unique to the file's run; the node's buckets are `cli_vars_<id>` and `cli_sessions_<id>`. */
  readonly id: string;
  server(): NatsTestServer;
}

/** Starts the server and the node in `beforeAll`, stops them in `afterAll`. */
export function useCliNode(): CliNode {
  let server: NatsTestServer | undefined;
  let node: Runtime | undefined;
  const id = `${process.pid}_${Date.now()}`;
  const current = (): NatsTestServer => {
    if (!server) throw new Error('useCliNode(): the server starts in beforeAll');
    return server;
  };
  beforeAll(async () => {
    server = await startNatsServer();
    node = await Runtime.start({
      llm: createEchoModel(),
      onError: () => {},
      nats: { servers: server.url, variablesBucket: `cli_vars_${id}`, sessionsBucket: `cli_sessions_${id}` },
    });
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });
  return { ...cliRunners(() => current().url), id, server: current };
}
