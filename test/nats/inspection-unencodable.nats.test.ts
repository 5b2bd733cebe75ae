/**
 * Inspection of a write whose request carries what JSON cannot (a BigInt, a cycle, a `toJSON` that throws), as a
 * node's own `setVariable`, `setVariables` or `importVariables` may be given before the session refuses it. Was: the
 * snapshot of that write, and of every transition while such a write was queued, was dropped from the inspect feed,
 * and `onError` was told a bare `TypeError` ("Do not know how to serialize a BigInt", no code) per snapshot. Now the
 * snapshot goes out with the part JSON cannot carry replaced by `{ omitted: true, unencodable: <why> }`, and nothing is
 * reported.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, type InspectedSnapshot } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('inspection of a write JSON cannot carry', () => {
  it('publishes its snapshots with that part omitted, and reports nothing', async () => {
    const errors: unknown[] = [];
    const node = await Runtime.start({
      onError: (error) => errors.push(error),
      nats: { servers: fx().server.url, ...fx().buckets(), inspect: true },
    });
    onTestFinished(() => node.stop());
    const seen: InspectedSnapshot[] = [];
    const subscription = nc().subscribe('tether.v1.inspect.odd.session', {
      callback: (_error, msg) => seen.push(msg.json<InspectedSnapshot>()),
    });
    onTestFinished(() => subscription.unsubscribe());
    await nc().flush();

    const session = await node.session('odd');
    await session.defineVariable('j', 'json', 1);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const throwing = {
      toJSON() {
        throw new Error('boom');
      },
    };
    await expect(session.setVariable('j', 1n)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(session.setVariables({ j: cyclic }, { atomic: true })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(session.importVariables([{ name: 'k', type: 'json', value: throwing }])).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await session.setVariable('j', 2);

    const writes = () => seen.filter((s) => (s.event as { type?: unknown }).type === 'write');
    // The four writes' events, the last one plain: every snapshot after the refused ones still comes.
    await waitFor(() => writes().some((s) => JSON.stringify(s.event).includes('"value":2')));
    const omitted = writes().filter((s) => s.truncated === true);
    expect(omitted.length).toBeGreaterThanOrEqual(3);
    // The request keeps what JSON carries (its kind, the variable's name); the value in it stands omitted.
    for (const s of omitted) expect(JSON.stringify(s.event)).toMatch(/"omitted":true,"unencodable":"[^"]+"/);
    expect(errors).toEqual([]);
  });
});
