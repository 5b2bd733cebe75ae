/**
 * One concurrency run: the cluster, the session's variables defined, the workers run concurrently to their end, the
 * viewpoints left to agree, then every invariant checked. Returns what was violated and a summary of what ran.
 * @module
 */
import type { NatsFixture } from '../nats-fixture.js';
import { createRandom } from '../wire-fuzz/random.js';
import { startCluster } from './cluster.js';
import { settle } from './final-state.js';
import { CREATOR, MODULES } from './execute.js';
import { Ledger } from './ledger.js';
import { DEFINITIONS, NAMES } from './variables.js';
import { checkWatch } from './watch-checks.js';
import { callMix, runWorker } from './workload.js';
import { checkWrites } from './write-checks.js';

/** Which viewpoint worker `i` writes through: every node's embedded API and the client in turn. */
const THROUGH = ['node1', 'node2', 'node3', 'client'] as const;

/** What a run found. */
export interface ConcurrentRun {
  readonly violations: string[];
  /** Per viewpoint, what `onError` was told. */
  readonly reports: Record<string, string[]>;
  /** Outcome counts by call kind, the changes heard marked `gap` by each watch, and how long the run took. */
  readonly summary: Record<string, unknown>;
}

/** Runs `calls` calls in all, spread over `workers` workers, drawn from `seed`. */
export async function runConcurrent(fx: NatsFixture, seed: number, calls: number, workers = 6): Promise<ConcurrentRun> {
  const started = Date.now();
  // Some seeds keep few writes per variable: rollbacks then ask for versions gone, and remote watches catching up
  // find the versions they missed gone from the history.
  const shallow = createRandom(seed ^ 0xdee);
  const historyDepth = shallow.chance(0.4) ? 2 + shallow.int(15) : undefined;
  const cluster = await startCluster(fx, `conc-${seed}`, historyDepth);
  const { viewpoints } = cluster;
  const first = viewpoints[0]!.session;
  for (const name of NAMES) {
    const { type, value, constraints } = DEFINITIONS[name];
    await first.defineVariable(name, type, value, { constraints });
  }
  const creator = viewpoints.find((viewpoint) => viewpoint.name === CREATOR)!.session;
  for (const [id, spec] of Object.entries(MODULES)) await creator.module(id, spec);
  const ledger = new Ledger();
  const perWorker = Math.ceil(calls / workers);
  const mix = callMix(seed);
  const running = Date.now();
  const worker = (i: number, where: string, calls: number, before?: (call: number) => Promise<void>) => async () => {
    const viewpoint = viewpoints.find((candidate) => candidate.name === where)!;
    await runWorker(`w${i}@${where}`, await viewpoint.open(), seed * 100 + i, calls, ledger, mix, before);
  };
  // A third of the way through its calls, the first worker starts every viewpoint's late watch, and a fourth node
  // joins, opening the session while all write, with a worker of its own for the rest of the run.
  let joining: Promise<void> = Promise.resolve();
  const third = Math.floor(perWorker / 3);
  const startLate = async (call: number): Promise<void> => {
    if (call !== third) return;
    await Promise.all(viewpoints.map((late) => late.watchLate()));
    joining = cluster.join('node4').then(worker(workers, 'node4', perWorker - third));
  };
  await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      worker(i, THROUGH[i % THROUGH.length]!, perWorker, i === 0 ? startLate : undefined)(),
    ),
  );
  await joining;
  const ranMs = Date.now() - running;
  const { final, violations } = await settle(viewpoints);
  violations.push(...ledger.violations, ...checkWrites(ledger, final));
  const gaps: Record<string, string[]> = {};
  for (const viewpoint of viewpoints) {
    const check = checkWatch(viewpoint.name, viewpoint.changes, final, ledger.claims, viewpoint.joined);
    const late = checkWatch(`${viewpoint.name} (late)`, viewpoint.late, final, ledger.claims, true);
    violations.push(...check.violations, ...late.violations);
    if (check.gaps.length > 0) gaps[viewpoint.name] = check.gaps;
    if (late.gaps.length > 0) gaps[`${viewpoint.name} (late)`] = late.gaps;
  }
  return {
    violations,
    reports: Object.fromEntries(viewpoints.map((viewpoint) => [viewpoint.name, viewpoint.reports])),
    summary: {
      calls: ledger.calls.length,
      historyDepth: historyDepth ?? 'default',
      increments: ledger.increments.length,
      gaps,
      ranMs,
      totalMs: Date.now() - started,
      outcomes: ledger.summary(),
    },
  };
}
