import { describe, expect, it } from 'vitest';
import { createEventOutbox } from '../../src/nats/event-outbox.js';
import { moduleEventFault } from '../../src/nats/module-event-check.js';
import { publishModuleEvents } from '../../src/nats/module-events.js';
import { createSubjects } from '../../src/nats/subjects.js';
import type { ModuleHandle } from '../../src/modules/module-handle.js';
import { fakeConnection } from '../support/fake-publish-connection.js';

type StateListener = (state: string, executionId: string | undefined) => void;
type EventListener = (event: Record<string, unknown>) => void;

/**
 * The events of a module process published through an outbox on a connection whose `max_payload` is `maxPayload`:
 * `state` and `emit` stand for the process (its `onState` is told the state it is in as it is attached, as a
 * handle's is), `published` and `reports` are what the outbox sent and reported.
 */
function publishedEvents(maxPayload = 1024 * 1024) {
  const { connection, published } = fakeConnection({ maxPayload });
  const reports: unknown[] = [];
  const outbox = createEventOutbox(connection, (error) => reports.push(error));
  let state: StateListener = () => {};
  const listeners = new Map<string, EventListener>();
  const handle = {
    sessionId: 's1',
    moduleId: 'qa',
    onState(listener: StateListener) {
      state = listener;
      listener('idle', undefined);
      return () => {};
    },
    on(type: string, listener: EventListener) {
      listeners.set(type, listener);
      return () => {};
    },
  } as unknown as ModuleHandle;
  const stop = publishModuleEvents(outbox, createSubjects(), handle, 'life-1');
  return {
    state: (next: string, executionId?: string) => state(next, executionId),
    // A handle's events name the session and the module (see module-listeners.ts).
    emit: (event: Record<string, unknown>) =>
      listeners.get(event.type as string)!({ sessionId: 's1', moduleId: 'qa', ...event }),
    stop,
    bodies: async () => {
      await outbox.flushed();
      return published.map((message) => message.body as Record<string, unknown>);
    },
    reports,
  };
}

describe('module events', () => {
  it('tell subscribers of state changes only, not the state the process was in when its events began', async () => {
    const events = publishedEvents();
    events.state('executing', 'e1');
    events.state('idle');
    const life = { sessionId: 's1', moduleId: 'qa', incarnation: 'life-1' };
    expect(await events.bodies()).toEqual([
      { type: 'module.state', state: 'executing', executionId: 'e1', ...life },
      { type: 'module.state', state: 'idle', ...life },
    ]);
  });

  it('cut a delta too large for a message into pieces that add up to it, none splitting a surrogate pair', async () => {
    // 4096 bytes are kept for the rest of the event: a piece of `answer` then holds (600 - 6 * 6) / 6 = 94 units.
    const events = publishedEvents(4096 + 600);
    // After the 'a', each emoji's first half is at an odd index: a cut after 94 units would split one.
    const delta = `a${'😀'.repeat(200)}`;
    events.emit({ type: 'module.delta', executionId: 'e1', field: 'answer', delta, restart: true });
    const pieces = await events.bodies();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.map((piece) => piece.delta).join('')).toBe(delta);
    for (const piece of pieces) {
      // Another language's JSON reader turns half a pair into U+FFFD: each piece must be text on its own.
      expect(piece.delta).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
    }
    // The field starts over once, with the first piece; the others add to it.
    expect(pieces.map((piece) => piece.restart)).toEqual([true, ...pieces.slice(1).map(() => undefined)]);
  });

  it('publish every sync just over max_payload without its largest changes, none of them dropped', async () => {
    const limit = 20_000;
    const events = publishedEvents(limit);
    // Left without `a`, the event is from 400 bytes under the limit to 100 over it: it must still fit once it names
    // what it left out.
    for (let length = limit - 500; length < limit; length += 1) {
      const changes = { a: ['x'.repeat(30_000), 'y'], b: ['z'.repeat(length), 'w'] };
      events.emit({ type: 'module.synced', executionId: 'e1', outcome: { moduleType: 'Predict', changes } });
    }
    const synced = await events.bodies();
    expect(events.reports).toEqual([]);
    expect(synced).toHaveLength(500);
    for (const event of synced) {
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(limit);
      expect(event).toMatchObject({ type: 'module.synced', sessionId: 's1', moduleId: 'qa', incarnation: 'life-1' });
      expect((event.outcome as { changesOmitted: string[] }).changesOmitted).toContain('a');
    }
  });

  it('name the session and its life in what stands for a failure too large for one message', async () => {
    const events = publishedEvents(64 * 1024);
    const reason = 'r'.repeat(100_000);
    const error = { code: 'execution_aborted', message: `cancelled: ${reason}`, details: { reason } };
    events.emit({ type: 'module.failed', executionId: 'e1', error });
    events.emit({ type: 'module.syncFailed', executionId: 'e2', error });
    const [failed, syncFailed] = await events.bodies();
    // A remote handle bound to one life takes an event naming none as an older node's: another life's too.
    const life = { sessionId: 's1', moduleId: 'qa', incarnation: 'life-1' };
    expect(failed).toMatchObject({
      type: 'module.failed',
      executionId: 'e1',
      ...life,
      error: { details: { cut: true } },
    });
    expect(syncFailed).toMatchObject({ type: 'module.syncFailed', executionId: 'e2', ...life });
    expect(events.reports).toEqual([]);
  });

  it('are told from other messages by a type a module announces and its fields, as the remote client reads them', () => {
    const event = { sessionId: 's1', moduleId: 'qa', state: 'idle' };
    expect(moduleEventFault({ type: 'module.state', ...event })).toBeUndefined();
    expect(moduleEventFault({ type: 'module.state', ...event, state: 'executing', executionId: 'e1' })).toBeUndefined();
    expect(moduleEventFault({ type: 'module.restarted', ...event })).toBe('type is no module event type');
    expect(moduleEventFault({ type: 'module.state', ...event, incarnation: 7 })).toBe('incarnation is no string');
    expect(moduleEventFault({ type: 'module.state', ...event, state: 'executing' })).toBe('executionId is no string');
  });

  it('are results only with a model that is text and a usage of three counts of tokens, when they have them', () => {
    const of = { type: 'module.result', sessionId: 's1', moduleId: 'qa' };
    const result = { executionId: 'e1', moduleType: 'Predict', output: {}, provenance: {} };
    const usage = { promptTokens: 3, completionTokens: 2, totalTokens: 5 };
    const fault = (fields: object) => moduleEventFault({ ...of, result: { ...result, ...fields } });
    expect(fault({ model: 'gpt-4o', usage })).toBeUndefined();
    // A node that predates them sends neither.
    expect(fault({})).toBeUndefined();
    expect(fault({ model: 7 })).toBe('result.model is no string');
    expect(fault({ model: 'm', usage: 'many' })).toBe('result.usage is no object');
    expect(fault({ model: 'm', usage: { ...usage, completionTokens: '2' } })).toBe(
      'result.usage.completionTokens is no count of tokens',
    );
    expect(fault({ model: 'm', usage: { promptTokens: 3, completionTokens: 2 } })).toBe(
      'result.usage.totalTokens is no count of tokens',
    );
    expect(fault({ model: 'm', usage: { ...usage, promptTokens: -1 } })).toBe(
      'result.usage.promptTokens is no count of tokens',
    );
  });
});
