import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/** What a node tells `onError`, as text. */
function toldList(): { readonly told: string[]; readonly onError: (error: unknown) => void } {
  const told: string[] = [];
  return { told, onError: (error) => told.push((error as Error).message) };
}

// Found by a review: a record put around the nodes with every field they looked up, but a value its own variable
// refuses or a field missing, joined its session as it was: a float of max 1 held 1.8 and a module bound to it ran
// with temperature 1.8, a module type outside allowedModules ran, an integer held 'abc', a record without a value
// handed out undefined (its export then failed an import), one without lockedBy was locked by 'undefined'.
describe('a record in the variables bucket that its own variable refuses', () => {
  it('is told to onError naming its key and the broken rule, and never reaches a module', async () => {
    const buckets = fx().buckets();
    const { told, onError } = toldList();
    const node = await fx().runtime(buckets, { onError });
    const session = await node.session('v1');
    await session.defineVariable('temp', 'float', 0.5, { constraints: { min: 0, max: 1 } });
    await session.defineVariable('kind', 'module', 'Predict', { constraints: { allowedModules: ['Predict'] } });
    const qa = await session.module('qa', {
      typeVariable: 'kind',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'temp' },
    });
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const temp = (await kv.get('v1.temp'))!.json<Record<string, unknown>>();
    await kv.put('v1.temp', enc.encode(JSON.stringify({ ...temp, value: 1.8, version: 2 })));
    const kind = (await kv.get('v1.kind'))!.json<Record<string, unknown>>();
    await kv.put('v1.kind', enc.encode(JSON.stringify({ ...kind, value: 'ChainOfThought', version: 2 })));

    // Told, or (as before) taken: either way the node has read both puts.
    await waitFor(
      async () => told.some((m) => m.includes("'v1.kind'")) || (await session.describeVariable('kind')).version === 2,
    );
    // No variable record over a variable ends it, as a delete would: the node holds neither value.
    expect([await session.hasVariable('temp'), await session.hasVariable('kind')]).toEqual([false, false]);
    const all = told.join('\n');
    expect(all).toMatch(
      /store key 'v1\.temp' holds a value that cannot be read: .*temp: value 1\.8 is above maximum 1/,
    );
    expect(all).toMatch(/store key 'v1\.kind' holds a value that cannot be read: .*must be one of the allowed modules/);
    // The module runs on what it last synced, and says its sync was refused: neither 1.8 nor ChainOfThought.
    const result = await qa.execute({ question: 'q' });
    expect(result.moduleType).toBe('Predict');
    expect(result.output.answer).toContain('temperature=0.5');
    expect(result.syncFailed?.code).toBe('variable_not_found');
  });

  it('of the wrong type or without a value is not handed out, and what is exported imports again', async () => {
    const buckets = fx().buckets();
    const { told, onError } = toldList();
    const node = await fx().runtime(buckets, { onError });
    const session = await node.session('v2');
    await session.defineVariable('n', 'integer', 1);
    await session.defineVariable('m', 'integer', 1);
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const n = (await kv.get('v2.n'))!.json<Record<string, unknown>>();
    await kv.put('v2.n', enc.encode(JSON.stringify({ ...n, value: 'abc', version: 2 })));
    const { value: _dropped, ...m } = (await kv.get('v2.m'))!.json<Record<string, unknown>>();
    await kv.put('v2.m', enc.encode(JSON.stringify({ ...m, version: 2 })));
    await waitFor(
      async () => told.some((m) => m.includes("'v2.m'")) || (await session.describeVariable('m')).version === 2,
    );
    await expect(session.getVariable('n')).rejects.toMatchObject({ code: 'variable_not_found' });
    await expect(session.getVariable('m')).rejects.toMatchObject({ code: 'variable_not_found' });
    expect(told.join('\n')).toMatch(/store key 'v2\.n' holds .*n: must be an integer, got "abc"/);
    expect(told.join('\n')).toMatch(/store key 'v2\.m' holds .*m: stored record has no value/);

    const remote = await (await fx().client()).session('v2', { create: false });
    await expect(remote.getVariable('m')).rejects.toMatchObject({ code: 'variable_not_found' });
    const copy = await node.session('v2-copy');
    await expect(copy.importVariables(await session.exportVariables())).resolves.toBeDefined();
  });

  it('without lockedBy does not lock its variable against every named writer', async () => {
    const buckets = fx().buckets();
    const { told, onError } = toldList();
    const node = await fx().runtime(buckets, { onError });
    const session = await node.session('v3');
    await session.defineVariable('x', 'integer', 1);
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const { lockedBy: _none, ...record } = (await kv.get('v3.x'))!.json<Record<string, unknown>>();
    await kv.put('v3.x', enc.encode(JSON.stringify({ ...record, value: 2, version: 2 })));
    await waitFor(
      async () => told.some((m) => m.includes("'v3.x'")) || (await session.describeVariable('x')).version === 2,
    );

    const outcome = await session
      .setVariable('x', 3, { updatedBy: 'alice' })
      .then((r) => `set to ${r.value}`)
      .catch((error: Error) => `${(error as { code?: string }).code}: ${error.message}`);
    // Ended by the record no node writes, as a delete would: never a lock held by nobody.
    expect(outcome).toMatch(/^variable_not_found: /);
    expect(told.join('\n')).toMatch(/store key 'v3\.x' holds .*x: stored record field 'lockedBy' must be null or/);
  });
});
