/**
 * A Tether node for tests, started the way users start one: `Runtime.start({ nats })`. What a node served is
 * read from its instance of the `tether` micro service (`$SRV.PING`, `$SRV.STATS`), as any NATS tool reads it,
 * so tests tell nodes apart without reaching inside them.
 */
import { Empty, ErrorCode, NatsError, createInbox, type NatsConnection } from 'nats';
import { Runtime } from '../../src/node/runtime.js';
import type { RuntimeOptions } from '../../src/node/runtime-options.js';
import type { NatsNodeOptions } from '../../src/nats/nats-node.js';

/** The buckets the nodes of one test share (fresh per test, so tests never share keys). */
export type TestBuckets = Required<Pick<NatsNodeOptions, 'variablesBucket' | 'sessionsBucket' | 'modulesBucket'>>;

/** A running node, as the tests see it. */
export interface TestNode {
  readonly runtime: Runtime;
  /** The node's instance id of the `tether` micro service (what `$SRV.PING` answers with). */
  readonly serviceId: string;
  /** The name of the node's NATS connection, as the server's `/connz` lists it. */
  readonly connectionName: string;
  /**
   * Requests the node's service has received, errors included (summed over its endpoints in `$SRV.STATS`).
   * Once the service is gone (the node stopped), the last count read.
   */
  requestsServed(): Promise<number>;
  /** Stops the node: its service drains, then its processes stop and its connection closes. */
  stop(): Promise<void>;
}

/** Options of {@link startTestNode}: those of `Runtime.start` but `nats` and `store`, which the node sets. */
export type TestNodeOptions = Omit<RuntimeOptions, 'nats' | 'store'> & {
  /** The URL(s) the node connects to instead of the server's: a proxy in front of it, a cluster's members. */
  readonly servers?: string | readonly string[];
  /** The node's NATS options beyond where it connects, its name and its buckets (which the fixture sets). */
  readonly nats?: Pick<
    NatsNodeOptions,
    'replicas' | 'reconnect' | 'unavailableRetryMs' | 'executionReplies' | 'historyDepth'
  >;
};

/** What a node needs from the fixture: the server, a connection for `$SRV` requests, the ids seen so far. */
export interface TestNodeContext {
  readonly url: string;
  readonly connection: NatsConnection;
  /** Service ids of the nodes started before; the new node's id is added. */
  readonly knownServiceIds: Set<string>;
}

let started = 0;

/**
 * Starts `Runtime.start({ nats })` on the buckets (errors swallowed unless `onError` is given) and finds its
 * service instance: the one answering `$SRV.PING` that no earlier node had. Nodes must therefore start one at a
 * time (the fixture sees to it).
 */
export async function startTestNode(
  context: TestNodeContext,
  buckets: TestBuckets,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  started += 1;
  const { servers, nats, ...runtimeOptions } = options;
  const connectionName = `test-node-${process.pid}-${started}`;
  const runtime = await Runtime.start({
    onError: () => {},
    ...runtimeOptions,
    nats: { ...nats, servers: servers ?? context.url, name: connectionName, ...buckets },
  });
  let serviceId: string;
  try {
    serviceId = await newServiceId(context.connection, context.knownServiceIds);
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  context.knownServiceIds.add(serviceId);
  let lastCount = 0;
  return {
    runtime,
    serviceId,
    connectionName,
    async requestsServed() {
      const count = await requestCount(context.connection, serviceId);
      if (count !== undefined) lastCount = count;
      return lastCount;
    },
    stop: () => runtime.stop(),
  };
}

/**
 * Runs `task`, which must make exactly one request to the nodes, and tells which of them served it (the first
 * whose service count rose).
 */
export async function servedBy<T, N extends Pick<TestNode, 'requestsServed'>>(
  nodes: readonly N[],
  task: () => Promise<T>,
): Promise<[T, N]> {
  const before = await Promise.all(nodes.map((node) => node.requestsServed()));
  const result = await task();
  const after = await Promise.all(nodes.map((node) => node.requestsServed()));
  const node = nodes.find((_, i) => after[i]! > before[i]!);
  if (!node) throw new Error('no node served the request');
  return [result, node];
}

/** The id of the one `tether` service instance answering `$SRV.PING` that is not in `known`. */
async function newServiceId(connection: NatsConnection, known: ReadonlySet<string>): Promise<string> {
  const inbox = createInbox();
  const subscription = connection.subscribe(inbox);
  // The node's service flushed its subscriptions before `Runtime.start` resolved: on its own server it answers
  // this ping. Through a cluster its interest reaches this connection's server a moment later (meanwhile the ping
  // may get a no-responders status, with no body), so the ping is repeated until the new node answers.
  const timer = setTimeout(() => subscription.unsubscribe(), 5000);
  const ping = (): void => connection.publish('$SRV.PING.tether', Empty, { reply: inbox });
  const again = setInterval(ping, 100);
  ping();
  try {
    for await (const msg of subscription) {
      if (msg.data.length === 0) continue;
      const { id } = msg.json<{ id: string }>();
      if (!known.has(id)) return id;
    }
  } finally {
    clearTimeout(timer);
    clearInterval(again);
    subscription.unsubscribe();
  }
  throw new Error('the new node did not answer $SRV.PING.tether within 5000 ms');
}

/** The requests the service instance `id` has received, or `undefined` when it no longer answers. */
async function requestCount(connection: NatsConnection, id: string): Promise<number | undefined> {
  try {
    const stats = (await connection.request(`$SRV.STATS.tether.${id}`, Empty, { timeout: 5000 })).json<{
      endpoints: { num_requests: number }[];
    }>();
    return stats.endpoints.reduce((sum, endpoint) => sum + endpoint.num_requests, 0);
  } catch (error) {
    if (error instanceof NatsError && error.code === ErrorCode.NoResponders) return undefined;
    throw error;
  }
}
