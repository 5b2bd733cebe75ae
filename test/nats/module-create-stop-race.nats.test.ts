import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const dec = new TextDecoder();
const spec = { type: 'Predict', signature: 'question:string -> answer:string' };

/** A request on session `s1` as any NATS client sends it: its result or its error. */
async function wire(operation: string, body: object): Promise<{ result?: unknown; error?: { code: string } }> {
  const reply = await nc().request(`tether.v1.session.s1.${operation}`, enc.encode(JSON.stringify(body)), {
    timeout: 10_000,
  });
  return JSON.parse(dec.decode(reply.data));
}

describe('stops racing a creation of the same module', () => {
  it('never leaves a module in place whose creation was refused, and a stop that lost the race stops nothing', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    await wire('open', {});
    for (let round = 0; round < 10; round++) {
      expect((await wire('module.m.create', { spec })).error).toBeUndefined();
      // Both stops usually read the same spec; one removes it, and the other must not then stop the module created
      // again meanwhile (it did, and the creation was answered `noproc` though its module stayed).
      const [first, created, second] = await Promise.all([
        wire('module.m.stop', {}),
        wire('module.m.create', { spec }),
        wire('module.m.stop', {}),
      ]);
      const listed = ((await wire('module.list', {})).result as { moduleId: string }[]).map((m) => m.moduleId);
      if (created.error) expect(listed, `round ${round}: ${created.error.code}`).toEqual([]);
      for (const stop of [first, second]) if (stop.error) expect(stop.error.code).toBe('module_not_found');
      if (listed.length > 0) await wire('module.m.stop', {});
    }
  });
});
