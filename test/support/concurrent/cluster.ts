/**
 * What the concurrency fuzzer runs on: three NATS nodes sharing one set of buckets on one server, and a remote
 * client whose requests any of them may serve. Each node, and the client, has a watch of every variable of the
 * session (`watchVariables('*')`), started before any variable is defined, that records what it hears, and an
 * `onError` that records what it is told.
 * @module
 */
import type { Runtime, TetherClient } from '../../../src/index.js';
import type { SessionApi } from '../../../src/session/session-api.js';
import type { VariableChange } from '../../../src/session/session-context.js';
import type { NatsFixture } from '../nats-fixture.js';

/** One place the session is seen from: a node's embedded API or the remote client. */
export interface Viewpoint {
  readonly name: string;
  /** A handle of the session, used for the watch and the final reads. */
  readonly session: SessionApi;
  /** Opens another handle of the session (each worker has its own). */
  open(): Promise<SessionApi>;
  /** What the watch heard, in order. */
  readonly changes: VariableChange[];
  /** What the late watch heard, in order: one started while the workers write, with `includeInitial`. */
  readonly late: VariableChange[];
  /** Starts the late watch (on another handle of the session). */
  watchLate(): Promise<void>;
  /** What `onError` was told. */
  readonly reports: string[];
  /** Whether it joined while the workers wrote (its first watch then started with `includeInitial` too). */
  readonly joined: boolean;
}

/** The viewpoints, and how to start one more node while the workers write. */
export interface Cluster {
  readonly viewpoints: Viewpoint[];
  /** Starts node `name` on the same buckets, its viewpoint added to the others. */
  join(name: string): Promise<Viewpoint>;
}

/**
 * Starts the three nodes and the client on fresh buckets, each viewpoint watching session `sessionId`; the variables
 * bucket keeps `historyDepth` writes per variable (the default, 64, when undefined).
 */
export async function startCluster(fx: NatsFixture, sessionId: string, historyDepth?: number): Promise<Cluster> {
  const buckets = fx.buckets();
  const reporter = (reports: string[]) => (error: unknown, where?: unknown) =>
    void reports.push(`${String(where ?? '')}: ${String((error as Error)?.stack ?? error)}`);
  const viewpoint = async (
    name: string,
    reports: string[],
    open: () => Promise<SessionApi>,
    joined = false,
  ): Promise<Viewpoint> => {
    const session = await open();
    const changes: VariableChange[] = [];
    await session.watchVariables('*', (change) => void changes.push(change), { includeInitial: joined });
    const late: VariableChange[] = [];
    const watchLate = async (): Promise<void> =>
      void (await (await open()).watchVariables('*', (change) => void late.push(change), { includeInitial: true }));
    return { name, session, open, changes, late, watchLate, reports, joined };
  };
  const startNode = async (name: string, joined: boolean): Promise<Viewpoint> => {
    const reports: string[] = [];
    const runtime: Runtime = await fx.runtime(buckets, {
      onError: reporter(reports),
      ...(historyDepth === undefined ? {} : { nats: { historyDepth } }),
    });
    return viewpoint(name, reports, () => runtime.session(sessionId), joined);
  };
  const viewpoints: Viewpoint[] = [];
  for (const name of ['node1', 'node2', 'node3']) viewpoints.push(await startNode(name, false));
  const reports: string[] = [];
  const client: TetherClient = await fx.client({ onError: reporter(reports) });
  viewpoints.push(await viewpoint('client', reports, () => client.session(sessionId)));
  return {
    viewpoints,
    async join(name) {
      const joined = await startNode(name, true);
      await joined.watchLate();
      viewpoints.push(joined);
      return joined;
    },
  };
}
