import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/**
 * Found by the hostile-client audit: events are core NATS, so any client of the account can publish on a session's
 * variable events subjects. One event whose revision was past the safe integers (1e20) became the client's
 * `Tether-Min-Revision`, and every later request of that client failed with validation_failed, for good; an event
 * whose value its type cannot hold ('abc' for an integer, a type no variable has) reached the watch's listener as a
 * change, and nobody was told.
 */
describe('a message on a variable events subject that no node would publish', () => {
  it('is dropped by a remote watch, told to onError naming what is wrong, and the client goes on', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await fx().node(buckets);
    const told: string[] = [];
    const client = await fx().client({
      onError: (error: unknown) => told.push(`${(error as { code?: string }).code}: ${(error as Error).message}`),
    });
    const session = await client.session('h1');
    await session.defineVariable('x', 'integer', 1);
    const seen: VariableChange[] = [];
    await session.watchVariables('*', (change) => seen.push(change));

    const event = {
      sessionId: 'h1',
      name: 'x',
      type: 'integer',
      oldValue: 1,
      newValue: 2,
      version: 2,
      updatedBy: null,
    };
    const bodies = [
      { ...event, revision: 1e20 },
      { ...event, revision: 1.5 },
      { ...event, revision: 900, newValue: 'abc' },
      { ...event, revision: 900, name: 'y', type: 'bogus', version: 1 },
      { ...event, revision: 900, version: -3 },
      { ...event, revision: 900, newValue: undefined },
    ];
    for (const body of bodies) nc().publish('tether.v1.events.h1.var.x', enc.encode(JSON.stringify(body)));
    nc().publish('tether.v1.events.h1.var.x', enc.encode('not json'));
    await nc().flush();
    await waitFor(() => told.length >= 7, { message: `seven refusals told (told: ${told.join('\n')})` });

    expect(seen).toEqual([]);
    const all = told.join('\n');
    expect(all).toMatch(
      /validation_failed: event on tether\.v1\.events\.h1\.var\.x dropped: revision must be a whole number from 1 to 9007199254740991, got 100000000000000000000/,
    );
    expect(all).toMatch(/got 1\.5/);
    expect(all).toMatch(/dropped: newValue: x: must be an integer, got "abc"/);
    expect(all).toMatch(/dropped: type "bogus" is no variable type/);
    expect(all).toMatch(/dropped: version must be a whole number/);
    expect(all).toMatch(/dropped: no newValue, and it is no delete/);
    expect(all).toMatch(/dropped: it is not JSON/);

    // The client still reads and writes, and its watch still hears real changes.
    expect(await session.setVariable('x', 5)).toMatchObject({ value: 5, version: 2 });
    await waitFor(() => seen.length === 1, { message: 'the real change delivered' });
    expect(seen[0]).toMatchObject({ name: 'x', oldValue: 1, newValue: 5, version: 2 });
    expect(await session.getVariable('x')).toBe(5);
    expect(told).toHaveLength(7);
  });
});

/**
 * The same for module events: a message on a module's events subject was checked for its type, session and module
 * only, so a remote handle's `onState` listener was called with `(undefined, undefined)` for a `module.state` with no
 * state, and a `module.result` listener got a result that was a string; nobody was told.
 */
describe('a message on a module events subject that no node would publish', () => {
  it("is dropped by a remote module handle, told to onError naming what is wrong, and its listeners hear the module's own", async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const told: string[] = [];
    const client = await fx().client({ onError: (error: unknown) => told.push((error as Error).message) });
    const session = await client.session('m1');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    const states: unknown[] = [];
    const results: unknown[] = [];
    qa.onState((state, executionId) => states.push([state, executionId]));
    qa.on('module.result', (event) => results.push(event.result.output));

    const of = { sessionId: 'm1', moduleId: 'qa' };
    const bodies = [
      { type: 'module.state', ...of },
      { type: 'module.state', ...of, state: 'bogus', executionId: 5 },
      { type: 'module.state', ...of, state: 'executing' },
      { type: 'module.result', ...of, result: 'x' },
      { type: 'module.result', ...of, result: { executionId: 'e1', moduleType: 'Predict', provenance: {} } },
      { type: 'module.failed', ...of, executionId: 'e1', error: 'boom' },
      { type: 'module.delta', ...of, executionId: 'e1', field: 'answer', delta: 7 },
      { type: 'module.synced', ...of, executionId: 'e1' },
    ];
    // onState tells the state it read first; then the subscriptions are in place.
    await waitFor(() => states.length === 1, { message: 'the state onState read' });
    expect(states).toEqual([['idle', undefined]]);
    for (const body of bodies) nc().publish('tether.v1.events.m1.module.qa', enc.encode(JSON.stringify(body)));
    await nc().flush();
    // Each listener has a subscription of its own, and each tells what it dropped.
    await waitFor(() => told.length >= 2 * bodies.length, { message: `refusals told (told: ${told.join('\n')})` });
    expect(states).toEqual([['idle', undefined]]);
    expect(results).toEqual([]);
    const all = told.join('\n');
    for (const why of [
      'state is none of idle, syncing, executing',
      'executionId is no string',
      'result is no object',
      'result.output is no object',
      'error is no object',
      'delta is no string',
      'outcome is no object',
    ])
      expect(all).toContain(`event on tether.v1.events.m1.module.qa dropped: ${why}`);

    const result = await qa.execute({ question: 'why?' });
    await waitFor(() => results.length === 1, { message: 'the real result heard' });
    expect(results[0]).toEqual(result.output);
    expect(states).toContainEqual(['executing', result.executionId]);
    expect(told).toHaveLength(2 * bodies.length);
  });
});
