/**
 * The wire protocol (docs/protocol.md) under seeded, structure-aware fuzzing, sent as a client in another language
 * would: raw bytes with the plain `nats` package, to two real nodes (offline echo model) on one nats-server. It
 * guards the protocol's promises that no input crashes a node, and that a malformed payload, a missing field, a
 * wrong type, or an id with `.`, `*`, `>` or white space gets a validation error and changes nothing.
 *
 * Every reply: within 15 s; a success, or an error whose code and status are in the page's table, with both service
 * error headers. After every write (and every 25th request) the session's variables, its modules and the sessions
 * must equal a model kept from the successful replies, refusals must not have moved the bucket, and the variable
 * events must be those the reply implies. Then one node stops and the other must serve the same state. No
 * unhandled error and no `onError` report along the way. The request makers live in test/support/wire-fuzz/.
 *
 * CI runs fixed seeds. To run one seed longer (a failure prints its seed):
 *
 *   FUZZ_SEED=<n> FUZZ_COUNT=<requests> npx vitest run test/nats/wire-fuzz.nats.test.ts
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { documentedErrorStatuses } from '../support/protocol-doc.js';
import { runWireFuzz } from '../support/wire-fuzz/fuzz-run.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : [1, 2];
const COUNT = Number(process.env.FUZZ_COUNT ?? 1200);

describe('wire protocol under fuzzing', () => {
  for (const seed of SEEDS) {
    const rerun = `FUZZ_SEED=${seed} FUZZ_COUNT=${COUNT}`;
    it(`answers every request as documented and changes only what replies say when fuzzed (${rerun})`, async () => {
      const unhandled: string[] = [];
      const onUnhandled = (error: unknown) => unhandled.push(String((error as Error)?.stack ?? error));
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      try {
        const nodeErrors: string[] = [];
        const options = { llm: createEchoModel(), onError: (error: unknown) => nodeErrors.push(String(error)) };
        const buckets = fx().buckets();
        const first = await fx().node(buckets, options);
        const second = await fx().node(buckets, options);
        const run = await runWireFuzz({
          nc: nc(),
          nodeIds: [first.serviceId, second.serviceId],
          seed,
          count: COUNT,
          documented: documentedErrorStatuses(),
        });
        await first.stop();
        await run.checkState('(the second node alone)');

        console.log(`${rerun}: ${run.elapsedMs} ms, ${JSON.stringify(run.stats)}`);
        expect(run.deviations, `${rerun}: replies or state that break the protocol`).toEqual([]);
        expect(nodeErrors, `${rerun}: onError reports`).toEqual([]);
        expect(unhandled, `${rerun}: unhandled errors`).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        process.off('uncaughtException', onUnhandled);
      }
    }, 120_000);
  }
});
