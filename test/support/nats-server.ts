/**
 * Starts a throwaway `nats-server` with JetStream for tests: a free port on loopback outside the kernel's ephemeral
 * range (see {@link freePorts}), storage in a temp dir, the URL read from the server's ports file. `NATS_URL` points
 * the suite at an existing server instead.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test server. */
export interface NatsTestServer {
  /** Client URL, e.g. `nats://127.0.0.1:40123`. */
  readonly url: string;
  /** The HTTP monitoring URL (`/connz`, `/jsz`), for a server started with `monitor: true`. */
  readonly monitorUrl?: string;
  /** Stops the server and removes its storage; a no-op for a server given by `NATS_URL`. */
  stop(): Promise<void>;
  /**
   * Sends the server process a signal: `SIGSTOP` freezes it (its connections stay open, and nothing answers on them)
   * until `SIGCONT`. Absent for a server given by `NATS_URL`.
   */
  readonly signal?: (signal: 'SIGSTOP' | 'SIGCONT') => void;
  /**
   * Rewrites the config lines (as {@link StartNatsServerOptions.config}) and has the server reload them (SIGHUP), e.g.
   * to take a permission from a user whose connection stays open. Resolves once the signal is sent: the server reloads
   * on its own time, so wait (`waitFor`) for what the reload changes. Absent for a server started without a config.
   */
  readonly reload?: (config: string) => Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /**
   * The binary to run, looked up on PATH.
   * @default 'nats-server'
   */
  readonly binary?: string;
  /**
   * How long to wait for the ports file.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /** A fixed port, e.g. to restart a server where its clients reconnect. @default one from {@link freePorts} */
  readonly port?: number;
  /** JetStream storage that outlives the server (not removed by `stop`). @default a fresh temp dir, removed */
  readonly storeDir?: string;
  /**
   * The server's `max_payload` in bytes (set through a config file: it has no command-line flag). Ignored for a
   * server given by `NATS_URL`: tests read the limit from the connection's `info.max_payload`.
   * @default the server's own, 1 MiB
   */
  readonly maxPayload?: number;
  /** Also serve HTTP monitoring on a random port (see {@link NatsTestServer.monitorUrl}). @default false */
  readonly monitor?: boolean;
  /**
   * Lines for the server's config file, e.g. an `authorization` block. A server with a config is always started
   * here, `NATS_URL` or not: its settings are what the test is about.
   */
  readonly config?: string;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The lowest port {@link freePorts} hands out. */
const PICKED_FLOOR = 10_000;
/** Slices of the ports below the ephemeral range, one per vitest worker at a time. */
const SLICES = 32;
/**
 * The one port at or above {@link PICKED_FLOOR} that `fetch` refuses to connect to (the Fetch standard's "bad ports"):
 * a cluster member's monitoring port there failed the cluster's health checks with "bad port".
 */
const FETCH_REFUSED_PORT = 10_080;
/** The ports {@link freePorts} handed out in this process: a server stopped to be started again keeps its own. */
const handedOut = new Set<number>();
/**
 * This process's slice: its vitest worker's (`VITEST_POOL_ID`, 1 to maxWorkers, unique among the workers running at
 * once), counted from a slice chosen by the vitest process (every worker's parent), so that another run on the same
 * machine most likely has other slices; one at random outside vitest.
 */
const pool = Number(process.env.VITEST_POOL_ID);
const slice =
  Number.isInteger(pool) && pool > 0 ? (process.ppid + pool - 1) % SLICES : Math.floor(Math.random() * SLICES);

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
async function ephemeralLow(): Promise<number> {
  try {
    const low = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A loopback listener on `port` (0: the kernel picks), `undefined` when the port is taken. */
function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(undefined) : reject(error),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct free loopback ports, held open together and then released, for servers to listen on. Taken below
 * the kernel's ephemeral range, from this vitest worker's own slice of those ports: the kernel hands out ports of that
 * range to every bind to port 0 (another test's server, a proxy, a stub, a server's random monitoring port) and to
 * every outgoing connection, so a port in it that a stopped or killed server freed could be taken before the server
 * starts again there (a restarted cluster member's random monitoring port once took its own client port). Below it,
 * and apart from the other workers, only some other process binding that very port could take it; a port this
 * process handed out is not handed out again while others are left. Without room below the range, the kernel picks.
 */
export async function freePorts(count: number): Promise<number[]> {
  const size = Math.floor(((await ephemeralLow()) - PICKED_FLOOR) / SLICES);
  const servers: Server[] = [];
  try {
    if (size < 64) {
      for (let i = 0; i < count; i += 1) servers.push((await listenOn(0))!);
    } else {
      const from = PICKED_FLOOR + slice * size;
      for (let tries = 0; servers.length < count; tries += 1) {
        if (tries >= 4 * size) throw new Error(`no ${count} free loopback ports in ${from}-${from + size - 1}`);
        const port = from + Math.floor(Math.random() * size);
        // A port handed out before is passed over, until so many tries say the slice is used up: then any free one.
        if ((handedOut.has(port) && tries < 2 * size) || port === FETCH_REFUSED_PORT) continue;
        const server = await listenOn(port);
        if (server) servers.push(server);
      }
    }
    const ports = servers.map((server) => (server.address() as AddressInfo).port);
    for (const port of ports) handedOut.add(port);
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Whether a start failed on a port another process took between {@link freePorts} and the server's bind. */
export const portTaken = (error: unknown): boolean => /address already in use/i.test(String(error));

/**
 * Starts `nats-server -a 127.0.0.1 -p <port> -js -sd <tmp> --ports_file_dir <tmp>`, or uses `NATS_URL` when set; a
 * port from {@link freePorts} that some other process took before the server bound it is replaced (three tries).
 * Fails with an install hint when the binary is missing.
 * @example
 * const server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * // ...
 * await nc.close(); await server.stop();
 */
export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsTestServer> {
  const external = process.env.NATS_URL;
  if (external && options.config === undefined) return { url: external, stop: async () => {} };

  const binary = options.binary ?? 'nats-server';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'tether-nats-'));
  const rest = ['-js', '-sd', options.storeDir ?? dir, '--ports_file_dir', dir];
  if (options.monitor) rest.push('-m', '-1');
  const configFile = join(dir, 'server.conf');
  const writeConfig = async (config: string | undefined): Promise<void> => {
    const lines = [options.maxPayload === undefined ? '' : `max_payload: ${options.maxPayload}`, config ?? ''];
    await writeFile(configFile, `${lines.join('\n')}\n`);
  };
  if (options.maxPayload !== undefined || options.config !== undefined) {
    await writeConfig(options.config);
    rest.push('-c', configFile);
  }
  let running: NatsProcess;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const port = options.port ?? (await freePorts(1))[0]!;
      running = await spawnNatsServer(binary, ['-a', '127.0.0.1', '-p', String(port), ...rest], dir, timeoutMs);
      break;
    } catch (error) {
      if (options.port === undefined && attempt < 3 && portTaken(error)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
  return {
    url: running.url,
    ...(options.monitor && running.monitorUrl ? { monitorUrl: running.monitorUrl } : {}),
    async stop() {
      running.signal('SIGCONT');
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
    signal: running.signal,
    ...(options.config === undefined
      ? {}
      : {
          async reload(config: string) {
            await writeConfig(config);
            running.signal('SIGHUP');
          },
        }),
  };
}

/** One `nats-server` process, as {@link spawnNatsServer} started it. */
export interface NatsProcess {
  /** Its first client URL, from the ports file. */
  readonly url: string;
  /** Its HTTP monitoring URL, when it was started with monitoring. */
  readonly monitorUrl: string | undefined;
  /** SIGTERM (a clean shutdown), then SIGKILL after two seconds; resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL: the server dies as in a crash, without telling its clients or its cluster; resolves once it exited. */
  kill(): Promise<void>;
  /** Sends the process `signal` (while it runs). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Spawns `binary` with `args`, which must write its ports file into `portsDir` (`--ports_file_dir`), and resolves
 * once that file names a client URL. Fails with an install hint when the binary is missing, and with the server's
 * stderr when it exits during start (a port taken, a bad config); the process is gone then. For the launchers in
 * this folder: tests use {@link startNatsServer} or `startNatsCluster`.
 */
export async function spawnNatsServer(
  binary: string,
  args: readonly string[],
  portsDir: string,
  timeoutMs: number,
): Promise<NatsProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep only the tail: enough to explain a failed start without growing for the server's lifetime.
    stderr = (stderr + chunk).slice(-4_000);
  });
  let failure: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure =
      error.code === 'ENOENT'
        ? new Error(
            `'${binary}' was not found on PATH. Install it (Debian/Ubuntu: apt-get install nats-server) ` +
              'or set NATS_URL to a running server started with -js.',
            { cause: error },
          )
        : error;
  });
  let exited = false;
  // A worker that dies without running its teardown must not leave servers behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });
  const stop = (): Promise<void> => terminate(child, () => exited);

  try {
    const { url, monitorUrl } = await readPorts(
      portsDir,
      timeoutMs,
      () => failure ?? (exited ? new Error(`nats-server exited during start:\n${stderr}`) : undefined),
    );
    return {
      url,
      monitorUrl,
      stop,
      signal(signal) {
        if (!exited) child.kill(signal);
      },
      async kill() {
        if (exited || child.pid === undefined) return;
        const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await done;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for `<dir>/*.ports` and returns its first client URL and monitoring URL. */
async function readPorts(
  dir: string,
  timeoutMs: number,
  failed: () => Error | undefined,
): Promise<{ url: string; monitorUrl: string | undefined }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const error = failed();
    if (error) throw error;
    const portsFile = (await readdir(dir)).find((name) => name.endsWith('.ports'));
    if (portsFile) {
      try {
        const ports = JSON.parse(await readFile(join(dir, portsFile), 'utf8')) as {
          nats?: string[];
          monitoring?: string[];
        };
        const url = ports.nats?.[0];
        if (url) return { url, monitorUrl: ports.monitoring?.[0] };
      } catch {
        // The server may still be writing the file; read it again on the next round.
      }
    }
    await delay(20);
  }
  throw new Error(`nats-server wrote no ports file in ${dir} within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if the server has not exited within two seconds. */
async function terminate(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited() || child.pid === undefined) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await done;
  clearTimeout(timer);
}
