/**
 * The fixture of the cluster test files: a three-server JetStream cluster per file (the fixture's own connection,
 * for `$SRV` requests, and its default client on the third server), fresh buckets per test, and real nodes on
 * them with every bucket kept on all three servers, as a deployment past one machine runs. There is no
 * `NATS_URL` mode: the files skip themselves under it ({@link clusterSkipped}).
 */
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, type NatsFixture, type TestBuckets } from './nats-fixture.js';
import { startNatsCluster, type ClusterMember, type NatsTestCluster } from './nats-cluster.js';
import type { TestNode, TestNodeOptions } from './tether-node.js';

/** The NATS options of every node: replicated buckets, and quick reconnects to another member. */
const replicated = { replicas: 3, reconnect: { waitMs: 250 } } as const;

/** Whether `file`'s cluster tests skip (under `NATS_URL`, which points the suite at one server); says why once. */
export function clusterSkipped(file: string): boolean {
  const external = process.env.NATS_URL;
  if (external === undefined) return false;
  console.warn(
    `[${file}] skipped: NATS_URL (${external}) points the suite at one existing server, and these tests ` +
      'start, kill and restart a three-server JetStream cluster of their own',
  );
  return true;
}

/** What a cluster test file uses; valid in its tests (once `beforeAll` ran). */
export interface ClusterFixture {
  readonly fx: () => NatsFixture;
  cluster(): NatsTestCluster;
  members(): readonly ClusterMember[];
  /** Fresh bucket names for this test; the nodes started from now on use them. */
  newBuckets(): TestBuckets;
  /** Starts a node connected to `servers` (a member's URL, or several) on the test's buckets. */
  node(servers: string | readonly string[], options?: TestNodeOptions): Promise<TestNode>;
  /** The running member holding the NATS connection of `n`. */
  memberOf(n: TestNode): Promise<ClusterMember | undefined>;
  /**
   * A node on a member that does not lead the variables stream (its connection outlives that leader), its member,
   * and the leader. The buckets exist once a first node has started; that node is the one returned if it qualifies,
   * and is stopped if it does not: no node is left on the leader's server.
   */
  nodeBesideLeader(options?: TestNodeOptions): Promise<{ node: TestNode; home: ClusterMember; leader: ClusterMember }>;
}

/** Registers the hooks of a cluster test file (call inside its `describe`). */
export function useClusterFixture(): ClusterFixture {
  let cluster: NatsTestCluster | undefined;
  const fx = useNatsFixture(async () => {
    cluster = await startNatsCluster(3);
    return { url: cluster.urls[2]!, stop: () => cluster!.stop() };
  });
  let buckets: TestBuckets = { variablesBucket: '', sessionsBucket: '', modulesBucket: '' };
  const members = (): readonly ClusterMember[] => cluster!.members;
  const node: ClusterFixture['node'] = (servers, options = {}) =>
    fx().node(buckets, { llm: createEchoModel(), ...options, servers, nats: { ...replicated, ...options.nats } });
  return {
    fx,
    cluster: () => cluster!,
    members,
    newBuckets() {
      buckets = fx().buckets();
      return buckets;
    },
    node,
    memberOf: (n) => cluster!.memberOf(n.connectionName),
    async nodeBesideLeader(options = {}) {
      const first = await node(members()[0]!.url, options);
      const leader = (await cluster!.leader(`KV_${buckets.variablesBucket}`))!;
      const home = members().find((m) => m !== leader)!;
      if (home === members()[0]) return { node: first, home, leader };
      // The first node, on the leader's server, goes: a test kills that server, and a request sent right after
      // the kill could still be routed to the node there and be lost (a server picks among a queue group's
      // members on every route as well as its own until it has seen the route close), which no test here expects.
      await first.stop();
      return { node: await node(home.url, options), home, leader };
    },
  };
}
