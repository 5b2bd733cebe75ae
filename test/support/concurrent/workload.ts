/**
 * The concurrency fuzzer's workers: each a seeded sequence of Session calls (calls.ts) on its own handle, run
 * concurrently with the others, in a mix of calls drawn from the run's seed.
 * @module
 */
import type { SessionApi } from '../../../src/session/session-api.js';
import { createRandom } from '../wire-fuzz/random.js';
import type { Ledger } from './ledger.js';
import { batch, compareAndSet, importBack, increment, lock, read, rollback, scratch, set, update } from './calls.js';
import { execute } from './execute.js';
import { SCRATCH, WRITTEN } from './variables.js';
import type { Worker } from './worker.js';

/** The kinds of call, each with its usual weight. */
const OPERATIONS: [number, (worker: Worker) => Promise<void>][] = [
  [25, increment],
  [6, update],
  [15, set],
  [15, compareAndSet],
  [10, batch],
  [6, rollback],
  [6, lock],
  [6, scratch],
  [11, read],
  [4, importBack],
  [8, execute],
];

/**
 * The mix of a run's calls: the usual weights each scaled by a factor from 0.2 to 3 drawn from the seed, and for some
 * seeds one variable most writes go to, so that seeds differ in what they press on (batches against compare-and-sets,
 * locks, deletions, one hot key...) and not only in order.
 */
export function callMix(seed: number): CallMix {
  const random = createRandom(seed ^ 0x5eed);
  const weights = OPERATIONS.map(([weight]) => weight * (0.2 + random.next() * 2.8));
  return { weights, hot: random.chance(0.4) ? random.pick([...WRITTEN, SCRATCH]) : undefined };
}

/** What a run's workers call: the weight of each kind of call, and the variable most writes go to, if any. */
export interface CallMix {
  readonly weights: readonly number[];
  readonly hot: string | undefined;
}

/**
 * Runs one worker's `calls` calls, drawn from `seed`, on `session`; a lock it holds at the end is released.
 * `before` runs before each call (the run starts its late watches from one worker's sequence).
 */
export async function runWorker(
  name: string,
  session: SessionApi,
  seed: number,
  calls: number,
  ledger: Ledger,
  mix: CallMix,
  before?: (call: number) => Promise<void>,
): Promise<void> {
  const total = mix.weights.reduce((sum, weight) => sum + weight, 0);
  const worker: Worker = {
    name,
    session,
    random: createRandom(seed),
    ledger,
    holding: false,
    seen: new Map(),
    known: new Map(),
    hot: mix.hot,
  };
  for (let call = 0; call < calls; call += 1) {
    let draw = worker.random.next() * total;
    const operation = OPERATIONS.find((_, i) => (draw -= mix.weights[i]!) < 0)?.[1] ?? increment;
    await before?.(call);
    await operation(worker);
  }
  if (worker.holding) await lock(worker);
}
