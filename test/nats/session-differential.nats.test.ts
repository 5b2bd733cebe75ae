/**
 * A stateful differential test of the Session and module APIs: seeded random sequences of calls, valid and not,
 * applied to one session id on three fresh runtimes (embedded on the memory store, the reference; a NATS node's
 * embedded API; the remote client through another node), compared call by call (the value, or the error's class,
 * code, message and details) and, after each call, by what each side shows of the session (its variables, their
 * histories, its export, its modules, what its watch of every variable heard, and what the `on` listeners of every
 * module event type and the `onState` listener it attaches to each module handle a call gets heard). Only what
 * legitimately differs is normalised (test/support/differential/outcome.ts says what and why, and listeners.ts for
 * what module listeners hear); documented or known differences are listed, and counted, in
 * test/support/differential/known.ts. A call answered otherwise is reported and the run goes on; a
 * state that differs ends it (what follows would only repeat it).
 *
 * CI runs two fixed seeds of 300 calls (about 9 s). To run other seeds longer (a failure prints its seed and the
 * calls that led to it):
 *
 *   FUZZ_SEED=<n>[,<n>...] FUZZ_COUNT=<calls> npx vitest run test/nats/session-differential.nats.test.ts
 */
import { describe, expect, it } from 'vitest';
import { useNatsFixture } from '../support/nats-fixture.js';
import { formatDifference, runDifferential } from '../support/differential/run.js';
import { startSides } from '../support/differential/sides.js';

const fx = useNatsFixture();

const SEEDS = process.env.FUZZ_SEED ? String(process.env.FUZZ_SEED).split(',').map(Number) : [1, 2];
const COUNT = Number(process.env.FUZZ_COUNT ?? 300);

describe('a session handle under differential fuzzing', () => {
  for (const seed of SEEDS) {
    const rerun = `FUZZ_SEED=${seed} FUZZ_COUNT=${COUNT}`;
    it(`answers every call and shows every state alike embedded, on a NATS node and remotely (${rerun})`, async () => {
      const unhandled: string[] = [];
      const onUnhandled = (error: unknown) => unhandled.push(String((error as Error)?.stack ?? error));
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      const { sides, stop } = await startSides(fx(), `diff-${seed}`);
      try {
        const run = await runDifferential(sides, seed, COUNT);
        const { differences, ...counts } = run;
        console.log(`${rerun}: ${JSON.stringify(counts)}`);
        for (const difference of differences) console.log(formatDifference(difference));
        expect(
          differences.map((d) => `step ${d.step} ${d.side}: ${d.label}`),
          `${rerun}: calls or states that differ`,
        ).toEqual([]);
        expect(run.steps).toBe(COUNT);
        for (const side of sides) expect(side.reports, `${rerun}: onError reports of ${side.name}`).toEqual([]);
        expect(unhandled, `${rerun}: unhandled errors`).toEqual([]);
      } finally {
        await stop();
        process.off('unhandledRejection', onUnhandled);
        process.off('uncaughtException', onUnhandled);
      }
    }, 120_000);
  }
});
