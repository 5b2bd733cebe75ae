/**
 * `var.getMany` answers every found variable as `{ value, version, type, id }`, "all read from one consistent
 * snapshot", each value encoded by its type (a float's NaN as "NaN"). Found in review: the type was looked up again
 * after the snapshot, one await at a time, so a variable deleted meanwhile came back typed "json", its NaN as null.
 */
import { headers as natsHeaders } from 'nats';
import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

async function request<T>(subject: string, body: unknown): Promise<T> {
  const reply = await nc().request(subject, new TextEncoder().encode(JSON.stringify(body)), {
    timeout: 20_000,
    headers: natsHeaders(),
  });
  return reply.json<T>();
}

interface Found {
  readonly value: unknown;
  readonly version: number;
  readonly type: string;
  readonly id: string;
}

describe('var.getMany over the wire while variables are deleted', () => {
  it('answers each found variable with its own type and its value encoded for it', { timeout: 30_000 }, async () => {
    const node = await fx().node(fx().buckets());
    const wrong: [string, Found][] = [];
    for (let round = 0; round < 15 && wrong.length === 0; round++) {
      const sid = `many-${round}`;
      const s = `tether.v1.session.${sid}`;
      await request(`${s}.open`, {});
      const names = Array.from({ length: 400 }, (_, i) => `v${String(i).padStart(3, '0')}`);
      await request(`${s}.var.import`, { records: names.map((name) => ({ name, type: 'float', value: 'NaN' })) });
      const embedded = await node.runtime.session(sid);

      // A raw client reads them all; the service deletes the second half through its embedded API meanwhile.
      const read = request<{ result: { found: Record<string, Found> } }>(`${s}.var.getMany`, { names });
      // Deletes trickle in, a few per turn, so that some commit lands while the read is being answered.
      const deletes: Promise<void>[] = [];
      for (let at = 200; at < 400; at += 10) {
        await new Promise((resolve) => setImmediate(resolve));
        deletes.push(...names.slice(at, at + 10).map((name) => embedded.deleteVariable(name)));
      }
      const { result } = await read;
      await Promise.all(deletes);
      // Whatever the snapshot holds, each variable found in it is a float holding NaN, sent as "NaN".
      for (const entry of Object.entries(result.found))
        if (entry[1].type !== 'float' || entry[1].value !== 'NaN') wrong.push(entry);
    }
    expect(wrong).toEqual([]);
  });
});
