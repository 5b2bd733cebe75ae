/**
 * Two creations of one module id at once, the first of them refused (a bound variable missing): the other is judged
 * on its own, and the id is `already_exists` only when a module really has it.
 */
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const good = { type: 'Predict', signature: 'question:string -> answer:string' };
/** Refused once its session is read: no variable `nope` to bind. */
const refused = { ...good, bindings: { temperature: 'nope' } };

/** A raw request of session `s1`: the error code of its reply, or 'ok'. */
async function wire(operation: string, body: object): Promise<string> {
  const reply = await nc().request(`tether.v1.session.s1.${operation}`, enc.encode(JSON.stringify(body)), {
    timeout: 10_000,
  });
  return reply.json<{ error?: { code: string } }>().error?.code ?? 'ok';
}

describe('a module creation racing a refused creation of the same id', () => {
  it('creates the module on the same node, rather than saying already_exists of an id nobody has', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    expect(await wire('open', {})).toBe('ok');
    const outcomes: string[] = [];
    for (let round = 0; round < 5; round++) {
      const id = `m${round}`;
      const [first, second] = await Promise.all([
        wire(`module.${id}.create`, { spec: refused }),
        wire(`module.${id}.create`, { spec: good }),
      ]);
      outcomes.push(`${first}, ${second}, then ${await wire(`module.${id}.describe`, {})}`);
    }
    // The second was told already_exists, and the id was free: describe answered module_not_found.
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => 'variable_not_found, ok, then ok'));
  });

  it('does the same through an embedded session of a node', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const session = await node.session('e1');
    const [first, second] = await Promise.allSettled([session.module('m', refused), session.module('m', good)]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'variable_not_found' } });
    expect(second.status).toBe('fulfilled');
    expect((await (await session.module('m')).describe()).signature).toBe(good.signature);
  });
});
