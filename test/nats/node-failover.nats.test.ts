import { describe, expect, it } from 'vitest';
import type { VariableRecord } from '../../src/variables/types.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

describe('node failover', () => {
  it('serves later requests from node B after node A stops mid-load, and loses none of the writes A accepted', async () => {
    const buckets = fx().buckets();
    const a = await fx().node(buckets);
    const b = await fx().node(buckets);
    const client = await fx().client({ timeoutMs: 10_000 });
    const session = await client.session('failover');
    await Promise.all(Array.from({ length: 40 }, (_, i) => session.defineVariable(`v${i}`, 'integer', 0)));

    // A steady stream of writes, 8 in flight at any time, while node A is stopped underneath it.
    const accepted = new Map<string, number>();
    const failures: unknown[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 400) {
        const n = next++;
        const name = `v${n % 40}`;
        try {
          const record: VariableRecord = await session.updateVariable(name, (v) => (v as number) + 1);
          accepted.set(name, Math.max(accepted.get(name) ?? 0, record.value as number));
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await waitFor(async () => (await a.requestsServed()) > 50 && (await b.requestsServed()) > 50, {
      timeout: 10_000,
      message: 'both nodes busy',
    });
    await a.stop();
    const servedByA = await a.requestsServed();
    const servedByB = await b.requestsServed();
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(await a.requestsServed()).toBe(servedByA);
    expect(await b.requestsServed()).toBeGreaterThan(servedByB);
    // Every increment was acknowledged exactly once, by A or B: the counters add up to all 400.
    const values = await session.getVariables(Array.from({ length: 40 }, (_, i) => `v${i}`));
    expect(Object.values(values.found).reduce((sum: number, v) => sum + (v as number), 0)).toBe(400);
    for (const [name, value] of accepted) expect(values.found[name]).toBe(value);
  }, 60_000);
});
