import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEchoModel, type ModuleEvent, type RemoteSession } from '../../src/index.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

// Monitoring: a test counts the subscriptions of a client's connection as the server holds them.
const fx = useNatsFixture({ monitor: true });
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };
const encoder = new TextEncoder();

/** Every message on `subject` from now on, as a plain subscriber hears it. */
async function heardOn<T>(subject: string): Promise<T[]> {
  const heard: T[] = [];
  const subscription = nc().subscribe(subject, { callback: (_error, msg) => heard.push(msg.json()) });
  await nc().flush();
  onTestFinished(() => subscription.unsubscribe());
  return heard;
}

/** A round trip through the server for `session`'s client: what the server sent it before has been handled. */
async function roundTrip(session: RemoteSession): Promise<void> {
  await session.listVariables().catch(() => undefined);
}

/** What a client was told through `onError`. */
type Told = { readonly error: unknown; readonly where: string }[];

/** The codes of the errors the client was told about from the listeners of module `qa`. */
const endsTold = (told: Told): unknown[] =>
  told
    .filter((each) => each.where.includes('listener of module qa'))
    .map((each) => (each.error as { code?: unknown }).code);

/** The name of Alice's connection, as the server's monitoring lists it. */
const ALICE = `alice-${process.pid}`;

/** How many subscriptions the server holds for Alice's connection. */
async function subscriptionsOfAlice(): Promise<number> {
  const response = await fetch(`${fx().server.monitorUrl}/connz?limit=1000`);
  const connz = (await response.json()) as { connections?: { name?: string; subscriptions?: number }[] };
  const found = (connz.connections ?? []).filter((connection) => connection.name === ALICE);
  expect(found).toHaveLength(1);
  return found[0]!.subscriptions ?? 0;
}

/**
 * Two nodes, and Alice's handle of module `qa` of session `m` in its first life, with a result and a state
 * listener, after one execution whose events they heard.
 */
async function oldLifeModule() {
  const buckets = fx().buckets();
  await fx().runtime(buckets, { llm: createEchoModel() });
  await fx().runtime(buckets, { llm: createEchoModel() });
  const told: Told = [];
  const alice = await fx().client({ name: ALICE, onError: (error, where) => told.push({ error, where }) });
  const old = await alice.session('m');
  await old.defineVariable('t', 'float', 0.1);
  const qa = await old.module('qa', predict);
  const results: string[] = [];
  const states: string[] = [];
  qa.on('module.result', (event) => results.push(event.result.executionId));
  qa.onState((state) => states.push(state));
  const first = await qa.execute({ question: 'mine?' });
  // A node publishes an execution's result before its return to idle: once both are heard, nothing is to come.
  await waitFor(() => results.length === 1 && states.at(-1) === 'idle', { message: "the old life's execution" });
  expect(results).toEqual([first.executionId]);
  return { old, qa, first, results, states, told, heardOfOld: [...states] };
}

/** Deletes session `sessionId` through a client of its own. */
async function deletedElsewhere(sessionId: string): Promise<void> {
  await (await (await fx().client()).session(sessionId)).delete();
}

describe('events and the life of their session', () => {
  it("keep an old life's module listeners from the next life's module of the same id, and tell them the life ended", async () => {
    const events = await heardOn<ModuleEvent>('tether.v1.events.m.module.>');
    const { old, qa, first, results, states, told, heardOfOld } = await oldLifeModule();

    // Deleted by another client: the end of a session Alice deletes herself is no news to her.
    await deletedElsewhere('m');
    // The id opened again, by another client, with a module of the same id that runs.
    const mine = await (await fx().client()).session('m');
    await mine.defineVariable('t', 'float', 0.9);
    const second = await (await mine.module('qa', predict)).execute({ question: 'yours?' });
    const isSecond = (event: ModuleEvent) =>
      event.type === 'module.result' && event.result.executionId === second.executionId;
    const idleAfter = (at: number) =>
      events.slice(at).some((event) => event.type === 'module.state' && event.state === 'idle');
    await waitFor(() => events.some(isSecond) && idleAfter(events.findIndex(isSecond)), {
      message: "the new life's execution, heard by a plain subscriber",
    });
    // Alice's connection has had everything the server sent it before: the new life's events among it.
    await roundTrip(old);

    expect(results).toEqual([first.executionId]);
    expect(states).toEqual(heardOfOld);
    // Both listeners were told that their life ended, as a watch is.
    await waitFor(() => endsTold(told).length === 2, { message: 'the listeners told of the end' });
    expect(endsTold(told)).toEqual(['session_not_found', 'session_not_found']);
    // A state listener added once the life is over hears it from its first read, and stops there.
    const late: string[] = [];
    qa.onState((each) => late.push(each));
    await waitFor(() => endsTold(told).length === 3, { message: 'the late listener told of the end' });
    expect(endsTold(told)[2]).toBe('session_not_found');
    expect(late).toEqual([]);
    // A plain subscriber tells the lives apart: every event names the life it belongs to.
    expect(old.incarnation).not.toBe(mine.incarnation);
    const lives = new Set([old.incarnation, mine.incarnation]);
    expect(events.filter((event) => !lives.has(event.incarnation))).toEqual([]);
    expect(
      events.flatMap((event) =>
        event.type === 'module.result' ? [[event.incarnation, event.result.executionId]] : [],
      ),
    ).toEqual([
      [old.incarnation, first.executionId],
      [mine.incarnation, second.executionId],
    ]);
  });

  it('stop a module listener added after its life ended, and tell the client, rather than hold it for ever', async () => {
    const { old, qa, told } = await oldLifeModule();
    await deletedElsewhere('m');
    await waitFor(() => endsTold(told).length === 2, { message: 'the listeners told of the end' });
    await roundTrip(old);
    const before = await subscriptionsOfAlice();

    // Added once the end event has gone by: only a read tells them that their life is over.
    const heard: unknown[] = [];
    for (let i = 0; i < 3; i++) qa.on('module.result', (event) => heard.push(event));
    await waitFor(() => endsTold(told).length === 5, { message: 'the late listeners told of the end' });
    expect(endsTold(told).slice(2)).toEqual(['session_not_found', 'session_not_found', 'session_not_found']);
    // Their subscriptions are gone from the server (the unsubscribes go out before the round trip's request).
    await roundTrip(old);
    expect(await subscriptionsOfAlice()).toBe(before);
    expect(heard).toEqual([]);
  });

  it('keep an event of another life from a module listener that it reaches before its own life ended', async () => {
    const { old, first, results, states, heardOfOld } = await oldLifeModule();

    // The end event comes from the node that removed the session, the next life's events from any node: they can
    // cross on the wire. Forced here: an event of another life published as a node of it would.
    const another = { sessionId: 'm', moduleId: 'qa', incarnation: randomUUID() };
    const result = { ...another, type: 'module.result', result: { ...first, executionId: randomUUID() } };
    const state = { ...another, type: 'module.state', state: 'executing' };
    for (const event of [state, result])
      nc().publish('tether.v1.events.m.module.qa', encoder.encode(JSON.stringify(event)));
    await nc().flush();
    await roundTrip(old);

    expect(results).toEqual([first.executionId]);
    expect(states).toEqual(heardOfOld);
  });

  it('keep a change of another life of the session from a remote watch bound to its own life', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await fx().runtime(buckets);
    const writer = await (await fx().client()).session('w');
    const changes = await heardOn<{ revision: number }>('tether.v1.events.w.var.>');
    await writer.defineVariable('x', 'integer', 1);
    await waitFor(() => changes.length === 1, { message: 'the definition heard' });
    const seen: VariableChange[] = [];
    const watcher = await (await fx().client()).session('w');
    await watcher.watchVariables('*', (change) => seen.push(change));

    // The definition of a variable in the id's next life, as a node of that life publishes it. Its end event comes
    // from the node that removed the session and this from another, so it can reach the watch first: forced here.
    const next = {
      sessionId: 'w',
      name: 'secret',
      id: randomUUID(),
      incarnation: randomUUID(),
      type: 'string',
      newValue: 'not yours',
      version: 1,
      updatedBy: null,
      revision: changes[0]!.revision + 1,
    };
    nc().publish('tether.v1.events.w.var.secret', encoder.encode(JSON.stringify(next)));
    await nc().flush();
    // A change of its own life, published after it: once the watch has it, it has handled the other.
    await writer.setVariable('x', 2);
    await waitFor(() => seen.length > 0 && seen.at(-1)?.name === 'x', { message: 'the change of x' });
    expect(seen.map((change) => [change.name, change.newValue])).toEqual([['x', 2]]);
    expect(watcher.incarnation).toBe(writer.incarnation);
  });
});
