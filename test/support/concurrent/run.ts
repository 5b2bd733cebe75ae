/**
 * One concurrency run: the cluster, the session's variables defined, the workers run concurrently to their end, the
 * viewpoints left to agree, then every invariant checked. Returns what was violated and a summary of what ran.
 * @module
 */
import type { NatsFixture } from '../nats-fixture.js';
import { startCluster } from './cluster.js';
import { settle } from './final-state.js';
import { Ledger } from './ledger.js';
import { DEFINITIONS, NAMES } from './variables.js';
import { checkWatch } from './watch-checks.js';
import { runWorker } from './workload.js';
import { checkWrites } from './write-checks.js';

/** Which viewpoint each worker writes through: every node's embedded API and the client, two of them twice. */
const WORKERS = ['node1', 'node2', 'node3', 'client', 'node1', 'client'] as const;

/** What a run found. */
export interface ConcurrentRun {
  readonly violations: string[];
  /** Per viewpoint, what `onError` was told. */
  readonly reports: Record<string, string[]>;
  /** Outcome counts by call kind, changes heard marked `gap` per viewpoint, and how long the run took. */
  readonly summary: Record<string, unknown>;
}

/** Runs `calls` calls in all (spread over the workers) drawn from `seed`. */
export async function runConcurrent(fx: NatsFixture, seed: number, calls: number): Promise<ConcurrentRun> {
  const started = Date.now();
  const viewpoints = await startCluster(fx, `conc-${seed}`);
  const first = viewpoints[0]!.session;
  for (const name of NAMES) {
    const { type, value, constraints } = DEFINITIONS[name];
    await first.defineVariable(name, type, value, { constraints });
  }
  const ledger = new Ledger();
  const perWorker = Math.ceil(calls / WORKERS.length);
  const running = Date.now();
  await Promise.all(
    WORKERS.map(async (where, i) => {
      const viewpoint = viewpoints.find((candidate) => candidate.name === where)!;
      await runWorker(`w${i}@${where}`, await viewpoint.open(), seed * 100 + i, perWorker, ledger);
    }),
  );
  const ranMs = Date.now() - running;
  const { final, violations } = await settle(viewpoints);
  violations.push(...ledger.violations, ...checkWrites(ledger, final));
  const gaps: Record<string, number> = {};
  for (const viewpoint of viewpoints) {
    const check = checkWatch(viewpoint.name, viewpoint.changes, final, ledger.claims);
    violations.push(...check.violations);
    gaps[viewpoint.name] = check.gaps;
  }
  return {
    violations,
    reports: Object.fromEntries(viewpoints.map((viewpoint) => [viewpoint.name, viewpoint.reports])),
    summary: {
      calls: ledger.calls.length,
      increments: ledger.increments.length,
      gaps,
      ranMs,
      totalMs: Date.now() - started,
      outcomes: ledger.summary(),
    },
  };
}
