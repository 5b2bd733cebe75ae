/**
 * A seeded fuzzer of concurrent writers of one session across NATS nodes: three nodes share the buckets, a remote
 * client reaches them, and six workers (on every node's embedded API and the client) run seeded random calls at
 * once: increments of a counter, sets with and without compare-and-set, batches atomic or not, rollbacks, locks,
 * the deletion and definition of a scratch variable, reads, and executions of two modules whose token budget is the
 * counter (one each node runs, one that stays on its node and is passed on to). What they do together is not known in
 * advance, so the run checks invariants rather than a reference (test/support/concurrent/ says each): the counter
 * counts its resolved increments; every call is answered or refused with a documented code, and nothing reaches
 * `onError` or goes unhandled; every node and the client end up describing the same records and histories; every
 * watch heard each variable's versions in order, marking any it skipped, up to the final record; no two resolved
 * writes claim one version; every value seen is valid for its variable; every execution synced the counter no older
 * than its handle had seen it, and sent that version's value.
 *
 * CI runs two fixed seeds of 600 calls (about 5 s). To run other seeds longer (a failure prints its seed and what broke):
 *
 *   FUZZ_SEED=<n>[,<n>...] FUZZ_COUNT=<calls> [FUZZ_WORKERS=<n>] npx vitest run test/nats/session-concurrency.nats.test.ts
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture } from '../support/nats-fixture.js';
import { runConcurrent } from '../support/concurrent/run.js';

const fx = useNatsFixture();

// Seed 22 runs on a bucket that keeps 5 writes per variable (see run.ts), seed 1 on the default 64.
const SEEDS = process.env.FUZZ_SEED ? String(process.env.FUZZ_SEED).split(',').map(Number) : [1, 22];
const COUNT = Number(process.env.FUZZ_COUNT ?? 600);
const WORKERS = Number(process.env.FUZZ_WORKERS ?? 6);

describe('a session written concurrently through three NATS nodes and a client', () => {
  for (const seed of SEEDS) {
    const rerun = `FUZZ_SEED=${seed} FUZZ_COUNT=${COUNT}${WORKERS === 6 ? '' : ` FUZZ_WORKERS=${WORKERS}`}`;
    it(`keeps every invariant (${rerun})`, async () => {
      const unhandled: string[] = [];
      const onUnhandled = (error: unknown) => unhandled.push(String((error as Error)?.stack ?? error));
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      try {
        const run = await runConcurrent(fx(), seed, COUNT, WORKERS);
        console.log(`${rerun}: ${JSON.stringify(run.summary)}`);
        expect(run.violations, `${rerun}: invariants violated`).toEqual([]);
        for (const [where, reports] of Object.entries(run.reports))
          expect(reports, `${rerun}: onError reports of ${where}`).toEqual([]);
        expect(unhandled, `${rerun}: unhandled errors`).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        process.off('uncaughtException', onUnhandled);
      }
    }, 120_000);
  }
});
