import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleEvent } from '../../src/index.js';
import { type OpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';
import { spec, useModuleEventsFixture } from '../support/module-events-fixture.js';

const { fx, nc, stub: currentStub, llm } = useModuleEventsFixture();
let stub: OpenAIStub;

beforeAll(() => {
  stub = currentStub();
});

describe('module events', () => {
  it('reach a plain nats subscriber: state changes, syncs, deltas and results with provenance', async () => {
    stub.fallback = () => text('Answer: The sky is blue.');
    const buckets = fx().buckets();
    const nodes = [await fx().runtime(buckets, { llm: llm() }), await fx().runtime(buckets, { llm: llm() })];
    // Each event names the node whose process published it.
    const nodeId = expect.stringMatching(new RegExp(`^(${nodes.map((node) => node.nodeId).join('|')})$`));
    const client = await fx().client();
    const session = await client.session('ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const events: { subject: string; event: ModuleEvent }[] = [];
    const subscription = nc().subscribe('tether.v1.events.ev.module.>', {
      callback: (_e, msg) => events.push({ subject: msg.subject, event: msg.json() }),
    });
    await nc().flush();

    const results = await Promise.all([qa.execute({ question: 'why?' }), qa.execute({ question: 'why not?' })]);
    await waitFor(() => events.filter((e) => e.event.type === 'module.result').length === 2, {
      message: 'two results',
    });
    // Each node publishes its result before its own return to idle; the last state heard settles on idle.
    const lastState = () =>
      events
        .map((e) => e.event)
        .filter((e) => e.type === 'module.state')
        .at(-1);
    await waitFor(() => lastState()?.type === 'module.state' && (lastState() as { state: string }).state === 'idle', {
      message: 'back to idle',
    });
    subscription.unsubscribe();

    expect(new Set(events.map((e) => e.subject))).toEqual(new Set(['tether.v1.events.ev.module.qa']));
    for (const result of results) {
      // Every event of an execution names it, its state changes too: with two nodes they interleave.
      const mine = events.map((e) => e.event).filter((e) => 'executionId' in e && e.executionId === result.executionId);
      expect(mine.map((e) => (e.type === 'module.state' ? e.state : e.type))).toEqual([
        'syncing',
        'module.synced',
        'executing',
        ...mine.filter((e) => e.type === 'module.delta').map(() => 'module.delta'),
      ]);
      const resultEvent = events
        .map((e) => e.event)
        .find((e) => e.type === 'module.result' && e.result.executionId === result.executionId);
      expect(resultEvent).toEqual({
        type: 'module.result',
        sessionId: 'ev',
        moduleId: 'qa',
        nodeId,
        incarnation: session.incarnation,
        result: { ...result, provenance: { t: 1 } },
      });
      const deltas = mine.flatMap((e) => (e.type === 'module.delta' ? [e.delta] : []));
      expect(deltas.join('')).toBe('The sky is blue.');
    }
    const states = events.flatMap((e) => (e.event.type === 'module.state' ? [e.event] : []));
    // State changes on the wire, as any subscriber reads them: a busy state names its execution, idle none.
    expect(states.find((e) => e.state === 'syncing')).toEqual({
      type: 'module.state',
      state: 'syncing',
      executionId: expect.stringMatching(new RegExp(`^(${results.map((r) => r.executionId).join('|')})$`)),
      sessionId: 'ev',
      moduleId: 'qa',
      nodeId,
      incarnation: session.incarnation,
    });
    expect(states.at(-1)).toEqual({
      type: 'module.state',
      state: 'idle',
      sessionId: 'ev',
      moduleId: 'qa',
      nodeId,
      incarnation: session.incarnation,
    });
  });

  it('feed a remote handle: on(type) and onState, from whichever node runs the execution', async () => {
    stub.fallback = () => text('Answer: ok');
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: llm() });
    await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client();
    const session = await client.session('remote-ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const states: [string, string | undefined][] = [];
    const results: string[] = [];
    const offState = qa.onState((state, executionId) => states.push([state, executionId]));
    const offResult = qa.on('module.result', (event) => results.push(event.result.executionId));
    await waitFor(() => states.length > 0, { message: 'initial state' });
    expect(states).toEqual([['idle', undefined]]);
    const done = await Promise.all(Array.from({ length: 6 }, (_, i) => qa.execute({ question: `q${i}` })));
    await waitFor(() => results.length === 6, { message: 'six results' });
    offState();
    offResult();
    expect(results.sort()).toEqual(done.map((r) => r.executionId).sort());
    // Each execution was heard executing, by its id, whichever node ran it.
    const executing = states.filter(([state]) => state === 'executing').map(([, executionId]) => executionId);
    expect(new Set(executing)).toEqual(new Set(done.map((r) => r.executionId)));
  });

  it('refuse a listener of an event type no module announces on a remote handle, as on an embedded one', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: llm() });
    const remote = await (await fx().client()).session('typo-ev');
    await remote.defineVariable('t', 'float', 0.4);
    const local = await node.session('typo-ev');
    const handles = [await remote.module('qa', spec), await local.module('qa')];
    for (const qa of handles) {
      expect(() => qa.on('module.finished' as never, () => {})).toThrow(
        expect.objectContaining({ code: 'validation_failed', message: expect.stringContaining("'module.finished'") }),
      );
      // State changes have their own listener: said so, rather than a listener that hears them on one kind of handle.
      expect(() => qa.on('module.state' as never, () => {})).toThrow(/onState/);
    }
  });

  it('reach a remote handle before the reply of the execution that caused them', async () => {
    stub.fallback = () => text('Answer: ok');
    await fx().runtime(fx().buckets(), { llm: llm() });
    const client = await fx().client();
    const session = await client.session('ordered-ev');
    await session.defineVariable('t', 'float', 0.4);
    const qa = await session.module('qa', spec);
    const seen: string[] = [];
    const off = qa.on('module.synced', (event) => seen.push(`synced ${event.executionId}`));
    const offResult = qa.on('module.result', (event) => seen.push(`result ${event.result.executionId}`));
    for (let i = 0; i < 3; i++) {
      const { executionId } = await qa.execute({ question: `q${i}` });
      // No wait: the node sent the events in the same write as the reply, ahead of it.
      expect(seen.slice(-2)).toEqual([`synced ${executionId}`, `result ${executionId}`]);
    }
    off();
    offResult();
  });
});
