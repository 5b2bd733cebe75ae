/**
 * What a node tells of the modules bucket it read (`ModuleSpecs.highestRevision`, the `modulesRevision` of its replies):
 * a creation refused because another node's spec took the id, or a read that found that spec, counts that spec's
 * revision, whether or not the node's watch has got to it. A client that sends the reply's revision on
 * (`Tether-Min-Modules-Revision`) is then served by a node that has seen the module it was told exists.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { AlreadyExistsError } from '../../src/errors.js';
import { openModuleSpecs, type ModuleSpecs } from '../../src/nats/module-specs.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const answer = { type: 'Predict', signature: 'question:string -> answer:string' };
const reply = { type: 'Predict', signature: 'question:string -> reply:string' };

/** The specs of a node on `bucket` whose watch never started: it knows only what it wrote or read. */
async function nodeSpecs(bucket: string): Promise<ModuleSpecs> {
  const specs = await openModuleSpecs(nc(), { bucket });
  onTestFinished(() => specs.close());
  return specs;
}

describe('the modules revision a node knows', () => {
  it("counts the revision of another node's spec that refused its creation, or that it read", async () => {
    const { modulesBucket } = fx().buckets();
    const a = await nodeSpecs(modulesBucket);
    const b = await nodeSpecs(modulesBucket);
    const won = await a.claim('s1', 'm', answer);

    await expect(b.claim('s1', 'm', reply)).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(b.highestRevision).toBeGreaterThanOrEqual(won);

    const c = await nodeSpecs(modulesBucket);
    expect((await c.current('s1', 'm'))?.revision).toBe(won);
    expect(c.highestRevision).toBeGreaterThanOrEqual(won);
  });
});
