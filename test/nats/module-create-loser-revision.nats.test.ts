/**
 * Two nodes creating one module id at once: the creation refused with `already_exists` carries a `modulesRevision`
 * at least that of the spec that took the id, so a client that sends it on (`Tether-Min-Modules-Revision`) has its
 * next request served by a node that has seen the module it was told exists.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const answer = { type: 'Predict', signature: 'question:string -> answer:string' };
const reply = { type: 'Predict', signature: 'question:string -> reply:string' };

interface Reply {
  readonly error?: { readonly code: string };
  readonly modulesRevision?: number;
}

/** A raw request of session `s1`, as any NATS client sends it. */
async function wire(operation: string, body: object): Promise<Reply> {
  const msg = await nc().request(`tether.v1.session.s1.${operation}`, enc.encode(JSON.stringify(body)), {
    timeout: 10_000,
  });
  return msg.json<Reply>();
}

/** The modules bucket's last revision, as any NATS tool reads it. */
async function lastRevision(buckets: TestBuckets): Promise<number> {
  const manager = await nc().jetstreamManager();
  return (await manager.streams.info(`KV_${buckets.modulesBucket}`)).state.last_seq;
}

describe('a module creation that lost the id to another node', () => {
  it('answers already_exists with a modulesRevision at least that of the spec that won', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    await fx().node(buckets, { llm: createEchoModel() });
    expect((await wire('open', {})).error).toBeUndefined();
    const behind: string[] = [];
    // Each pair reaches the two nodes about half the time (the queue group picks): enough rounds for several.
    for (let round = 0; round < 16; round++) {
      const id = `m${round}`;
      const pair = await Promise.all([
        wire(`module.${id}.create`, { spec: answer }),
        wire(`module.${id}.create`, { spec: reply }),
      ]);
      const lost = pair.find((r) => r.error);
      expect(lost?.error?.code, `round ${round}`).toBe('already_exists');
      // Nothing else writes to the bucket: its last revision is the winner's spec.
      const won = await lastRevision(buckets);
      if (!(lost!.modulesRevision! >= won)) behind.push(`${id}: refused at ${lost!.modulesRevision}, spec at ${won}`);
    }
    expect(behind).toEqual([]);
  });
});
