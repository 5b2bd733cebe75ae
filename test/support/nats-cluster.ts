/**
 * Starts a throwaway JetStream cluster of `nats-server` processes on loopback for tests: each with a
 * `server_name`, a temp store dir and a config whose `cluster { routes }` names every other member, so that the
 * meta group knows its size from the start. Resolves once every member reports JetStream healthy (a meta leader
 * elected and known), when buckets with `replicas: 3` can be created. A member can be killed and restarted on the
 * same ports and store dir, as a crashed machine comes back. There is no `NATS_URL` mode: a cluster is what these
 * tests are about (they skip themselves under `NATS_URL`).
 * @module
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, portTaken, spawnNatsServer, type NatsProcess } from './nats-server.js';
import { waitFor } from './wait-for.js';

/** One member of a {@link NatsTestCluster}. */
export interface ClusterMember {
  /** Its `server_name`, e.g. `n1`. */
  readonly name: string;
  /** Its client URL; the same after a restart. */
  readonly url: string;
  /** Whether its process is up (started, and not stopped or killed since). */
  readonly running: boolean;
  /** Kills the process (SIGKILL: no goodbye to its clients or its peers). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store dir and waits for its ports file (not for its health). */
  restart(): Promise<void>;
  /** Reads its monitoring endpoint `path` (e.g. `/connz?subs=1`) as JSON; rejects while it is down. */
  monitor<T>(path: string): Promise<T>;
}

/** A running test cluster. */
export interface NatsTestCluster {
  readonly members: readonly ClusterMember[];
  /** Every member's client URL, for clients that should fail over between them. */
  readonly urls: readonly string[];
  /**
   * Resolves once every running member answers `/healthz` with ok (JetStream current with the meta leader, and
   * each stream and consumer it holds current with its group) and names the meta leader in `/jsz`. Rejects after
   * `timeoutMs`.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** The running member holding the client connection named `connectionName` (its `/connz`). */
  memberOf(connectionName: string): Promise<ClusterMember | undefined>;
  /**
   * The running members holding a push consumer of `stream` (a KV watch, say) that delivers to the connection
   * named `connectionName`: JetStream places such a consumer on any server of the stream, not the connection's.
   */
  consumerHostsOf(stream: string, connectionName: string): Promise<ClusterMember[]>;
  /** The member the running ones name as the leader of `stream`, or of the JetStream meta group without one. */
  leader(stream?: string): Promise<ClusterMember | undefined>;
  /** Stops every member and removes their storage. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsCluster}. */
export interface StartNatsClusterOptions {
  /** @default 'nats-server' */
  readonly binary?: string;
  /** How long to wait for each ports file, and then for the cluster to be healthy. @default 20000 */
  readonly timeoutMs?: number;
}

/** A member as the launcher holds it: also stopped cleanly at the end, and asked for its health. */
interface RunningMember extends ClusterMember {
  /** Its monitoring URL, `undefined` while it is down. */
  readonly monitorUrl: string | undefined;
  stop(): Promise<void>;
}

/** The parts of `/jsz` read here. */
interface Jsz {
  meta_cluster?: { leader?: string };
  account_details?: {
    stream_detail?: {
      name: string;
      cluster?: { leader?: string };
      consumer_detail?: { cluster?: { leader?: string }; config?: { deliver_subject?: string } }[];
    }[];
  }[];
}

/** A client connection as `/connz?subs=1` lists it. */
interface Connz {
  connections?: { name?: string; subscriptions_list?: string[] }[];
}

interface MemberPorts {
  readonly client: number;
  readonly cluster: number;
  readonly monitor: number;
}

/**
 * Free loopback ports for every member, no two the same, outside the kernel's ephemeral range (see `freePorts`): a
 * killed member's ports stay free for its restart, where a random port some other server or connection took meanwhile
 * would have made it die on 'address already in use'.
 */
async function memberPorts(size: number): Promise<MemberPorts[]> {
  const ports = await freePorts(size * 3);
  return Array.from({ length: size }, (_, i) => ({
    client: ports[3 * i]!,
    cluster: ports[3 * i + 1]!,
    monitor: ports[3 * i + 2]!,
  }));
}

/** The config of member `index`: its ports, its store, and routes to every other member. */
function memberConfig(index: number, ports: readonly MemberPorts[], storeDir: string): string {
  const own = ports[index]!;
  const routes = ports.filter((_, i) => i !== index).map((other) => `nats-route://127.0.0.1:${other.cluster}`);
  return [
    `server_name: n${index + 1}`,
    `host: 127.0.0.1`,
    `port: ${own.client}`,
    // Fixed, not -1: a restarted member's random monitoring port could land on its own client port, just freed.
    `http_port: ${own.monitor}`,
    `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
    `cluster {`,
    `  name: tether_test`,
    `  listen: 127.0.0.1:${own.cluster}`,
    `  routes: [${routes.join(', ')}]`,
    `}`,
  ].join('\n');
}

/**
 * Whether a member's `/healthz` is ok and its `/jsz` names the meta leader: health alone can pass in the moment
 * before a freshly started cluster has elected one, when creating a stream still fails.
 */
async function memberHealthy(monitorUrl: string): Promise<boolean> {
  const health = await fetch(`${monitorUrl}/healthz`);
  if (!health.ok) return false;
  const jsz = (await (await fetch(`${monitorUrl}/jsz`)).json()) as { meta_cluster?: { leader?: string } };
  return Boolean(jsz.meta_cluster?.leader);
}

/**
 * Starts `size` clustered JetStream servers and waits until the cluster is healthy. Ports are picked free just before
 * the start ({@link memberPorts}; a port some other process grabs meanwhile makes the whole start try again).
 * @example
 * const cluster = await startNatsCluster();
 * const nc = await connect({ servers: [...cluster.urls] });
 * // ...
 * await cluster.members[0]!.kill(); await cluster.members[0]!.restart(); await cluster.waitHealthy();
 * await nc.close(); await cluster.stop();
 */
export async function startNatsCluster(size = 3, options: StartNatsClusterOptions = {}): Promise<NatsTestCluster> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(size, options);
    } catch (error) {
      if (attempt >= 3 || !portTaken(error)) throw error;
    }
  }
}

async function startOnce(size: number, options: StartNatsClusterOptions): Promise<NatsTestCluster> {
  const binary = options.binary ?? 'nats-server';
  const timeoutMs = options.timeoutMs ?? 20_000;
  const root = await mkdtemp(join(tmpdir(), 'tether-cluster-'));
  const ports = await memberPorts(size);
  const members: RunningMember[] = [];

  const member = async (index: number): Promise<RunningMember> => {
    const dir = join(root, `n${index + 1}`);
    await mkdir(dir);
    const config = join(root, `n${index + 1}.conf`);
    await writeFile(config, `${memberConfig(index, ports, join(dir, 'store'))}\n`);
    const args = ['-c', config, '--ports_file_dir', dir];
    const launch = async (): Promise<NatsProcess> => {
      // A killed server leaves its ports file behind; the restarted one must not be taken for it.
      const stale = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.ports'));
      await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
      return spawnNatsServer(binary, args, dir, timeoutMs);
    };
    let server: NatsProcess | undefined = await launch();
    return {
      name: `n${index + 1}`,
      url: server.url,
      get running() {
        return server !== undefined;
      },
      get monitorUrl() {
        return server?.monitorUrl;
      },
      async kill() {
        await server?.kill();
        server = undefined;
      },
      async stop() {
        await server?.stop();
        server = undefined;
      },
      async restart() {
        if (server) throw new Error(`cluster member n${index + 1} is running; kill it before restarting it`);
        server = await launch();
      },
      async monitor<T>(path: string) {
        if (!server?.monitorUrl) throw new Error(`cluster member n${index + 1} is not running`);
        return (await (await fetch(`${server.monitorUrl}${path}`)).json()) as T;
      },
    };
  };

  const running = (): RunningMember[] => members.filter((m) => m.running);
  const connectionsOf = async (m: ClusterMember): Promise<NonNullable<Connz['connections']>> =>
    (await m.monitor<Connz>('/connz?subs=1')).connections ?? [];

  const stop = async (): Promise<void> => {
    await Promise.allSettled(members.map((m) => m.stop()));
    await rm(root, { recursive: true, force: true });
  };

  try {
    // Every member at once: each one's routes point at the others, which it dials until they are up.
    const started = await Promise.allSettled(ports.map((_, i) => member(i)));
    for (const result of started) if (result.status === 'fulfilled') members.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const cluster: NatsTestCluster = {
      members,
      urls: members.map((m) => m.url),
      async waitHealthy(timeout = timeoutMs) {
        await waitFor(
          async () => {
            const urls = members.flatMap((m) => (m.monitorUrl ? [m.monitorUrl] : []));
            const healthy = await Promise.all(urls.map(memberHealthy));
            return healthy.every(Boolean);
          },
          { timeout, interval: 100, message: 'every running cluster member reports JetStream healthy' },
        );
      },
      async memberOf(connectionName) {
        for (const m of running()) {
          if ((await connectionsOf(m)).some((c) => c.name === connectionName)) return m;
        }
        return undefined;
      },
      async consumerHostsOf(stream, connectionName) {
        const holder = await cluster.memberOf(connectionName);
        if (!holder) return [];
        const connection = (await connectionsOf(holder)).find((c) => c.name === connectionName);
        const subjects = new Set(connection?.subscriptions_list ?? []);
        const hosts: ClusterMember[] = [];
        for (const m of running()) {
          const jsz = await m.monitor<Jsz>('/jsz?accounts=true&streams=true&consumers=true&config=true');
          const consumers = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream);
          // A consumer shows up on the members holding it; its leader is the one delivering.
          const delivering = (consumers?.consumer_detail ?? []).some(
            (c) => c.cluster?.leader === m.name && subjects.has(c.config?.deliver_subject ?? ''),
          );
          if (delivering) hosts.push(m);
        }
        return hosts;
      },
      async leader(stream) {
        for (const m of running()) {
          const jsz = await m.monitor<Jsz>('/jsz?accounts=true&streams=true');
          const leader =
            stream === undefined
              ? jsz.meta_cluster?.leader
              : jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream)?.cluster
                  ?.leader;
          if (leader) return members.find((candidate) => candidate.name === leader);
        }
        return undefined;
      },
      stop,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}
