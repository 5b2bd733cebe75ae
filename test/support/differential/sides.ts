/**
 * The three sides the differential fuzzer compares, each a fresh runtime with its own store, all on the offline
 * echo model: an embedded runtime on the memory store (the reference), a NATS node's own embedded API, and the remote
 * client through a second node. The two nodes run on fresh buckets under subject prefixes of their own, so that
 * neither serves the other's requests.
 * @module
 */
import { Runtime, createEchoModel } from '../../../src/index.js';
import type { SessionApi } from '../../../src/session/session-api.js';
import type { NatsFixture } from '../nats-fixture.js';
import type { SideHandles } from './operations.js';
import { listenTo, type HeardLog } from './listeners.js';

/**
 * One side: its handles, what its runtime, node or client told `onError`, the changes its watch of every variable
 * (`watchVariables('*')`, started with each handle the side opens) heard, and what the module listeners it attached
 * to each module handle a call got heard.
 */
export interface Side extends SideHandles {
  readonly name: string;
  readonly reports: string[];
  readonly changes: unknown[];
  readonly modulesHeard: HeardLog;
}

let started = 0;

/** Starts the three sides on session `sessionId`; `stop` ends what it started. */
export async function startSides(
  fx: NatsFixture,
  sessionId: string,
): Promise<{ sides: Side[]; stop(): Promise<void> }> {
  started += 1;
  const stops: (() => Promise<void>)[] = [];
  const side = async (name: string, open: () => Promise<SessionApi>, reports: string[]): Promise<Side> => {
    const changes: unknown[] = [];
    // One watch at a time: the order in which two watches of one session hear a change is promised nowhere.
    let unwatch = (): void => {};
    const watched = async (): Promise<SessionApi> => {
      const session = await open();
      unwatch();
      unwatch = await session.watchVariables('*', (change) => void changes.push(change));
      return session;
    };
    const modulesHeard: HeardLog = { heard: [], handles: 0, created: new Map() };
    return {
      name,
      reports,
      changes,
      modulesHeard,
      session: await watched(),
      modules: new Map(),
      reopen: watched,
      listen: (handle, created) => listenTo(modulesHeard, handle, created),
    };
  };
  const reporter = (reports: string[]) => (error: unknown, where?: string) =>
    void reports.push(`${where ?? ''}: ${String((error as Error)?.stack ?? error)}`);
  try {
    const memoryReports: string[] = [];
    const memory = await Runtime.start({ llm: createEchoModel(), onError: reporter(memoryReports) });
    stops.push(() => memory.stop());

    const natsReports: string[] = [];
    const nats = await Runtime.start({
      llm: createEchoModel(),
      onError: reporter(natsReports),
      nats: {
        servers: fx.server.url,
        prefix: `diff${process.pid}n${started}`,
        name: `diff-${started}`,
        ...fx.buckets(),
      },
    });
    stops.push(() => nats.stop());

    const remoteReports: string[] = [];
    await fx.node(fx.buckets(), { llm: createEchoModel(), onError: reporter(remoteReports) });
    const client = await fx.client({ onError: reporter(remoteReports) });

    const sides = [
      await side('memory', () => memory.session(sessionId), memoryReports),
      await side('nats', () => nats.session(sessionId), natsReports),
      await side('remote', () => client.session(sessionId), remoteReports),
    ];
    return { sides, stop: () => stopAll(stops) };
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  await Promise.allSettled(stops.splice(0).map((stop) => stop()));
}
