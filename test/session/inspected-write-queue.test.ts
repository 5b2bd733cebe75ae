/**
 * A session snapshot (and the write event) an inspector is shown carries the process's own queued writes, the plan in
 * flight and a deferred stop. They were unfrozen: an inspector that masked a queued value for display wrote the mask,
 * and one that trimmed the queue it showed dropped a caller's write (call_timeout, never written). Now they are frozen
 * as a module's mailbox is: an inspector reads them, and what it edits changes no write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Runtime } from '../../src/index.js';

interface ShownWrite {
  request: { kind: string; value?: unknown };
}

interface ShownContext {
  queue?: unknown;
  inFlight?: { writes?: unknown[] } | null;
  pendingStop?: unknown;
}

function contextOf(event: InspectionEvent): ShownContext | undefined {
  if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return undefined;
  return (event.snapshot as { context?: ShownContext }).context;
}

/** The queued writes a snapshot shows (the queue is iterable, oldest first). */
function queueOf(event: InspectionEvent): ShownWrite[] | undefined {
  const queue = contextOf(event)?.queue as Iterable<ShownWrite> | undefined;
  return queue === undefined ? undefined : [...queue];
}

/** Runs `edit`, as an inspector that edits in place would; a frozen object refuses it (strict mode throws). */
function tryEdit(edit: () => void): void {
  try {
    edit();
  } catch {
    // frozen: nothing changed, as it should be
  }
}

describe('inspected write queue', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('writes the value the caller gave when an inspector redacts queued writes in its snapshot', async () => {
    runtime = await Runtime.start({
      inspect: (event) => {
        for (const write of queueOf(event) ?? []) {
          tryEdit(() => {
            if (write.request.kind === 'set') write.request.value = '***';
          });
        }
      },
    });
    const session = await runtime.session('redacted');
    await session.defineVariable('a', 'string', 'x');
    await session.defineVariable('token', 'string', 'old');
    // The second write waits in the queue behind the first, where the inspector sees it.
    await Promise.all([session.setVariable('a', 'y'), session.setVariable('token', 'sk-live-123')]);

    expect(await session.getVariable('a')).toBe('y');
    expect(await session.getVariable('token')).toBe('sk-live-123');
  });

  it('writes the value the caller gave when an inspector redacts the write event it is shown', async () => {
    runtime = await Runtime.start({
      inspect: (event) => {
        if (event.type !== '@xstate.event') return;
        const request = (event.event as { request?: { kind?: string; value?: unknown } }).request;
        tryEdit(() => {
          if (request?.kind === 'set') request.value = '***';
        });
      },
    });
    const session = await runtime.session('redacted-event');
    await session.defineVariable('token', 'string', 'old');
    await session.setVariable('token', 'sk-live-123');

    expect(await session.getVariable('token')).toBe('sk-live-123');
  });

  it('loses no write when an inspector trims the queue of the snapshot it was shown', async () => {
    runtime = await Runtime.start({
      callTimeoutMs: 1000,
      inspect: (event) => {
        // The queue object the snapshot holds, trimmed as an inspector might try: by its length, or as an array.
        const queue = contextOf(event)?.queue as { length?: number; splice?: (at: number) => unknown } | undefined;
        if (!queue || (queue.length ?? 0) <= 1) return;
        tryEdit(() => queue.splice?.(1));
        tryEdit(() => Object.assign(queue, { length: 1 }));
      },
    });
    const session = await runtime.session('trimmed');
    await session.defineVariable('a', 'string', 'x');
    await session.defineVariable('b', 'string', 'x');
    const outcomes = await Promise.allSettled([session.setVariable('a', 'y'), session.setVariable('b', 'z')]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await session.getVariable('b')).toBe('z');
  });

  it('shows the queue, the write in flight and a deferred stop frozen, so that no inspector changes them', async () => {
    const shown = { queues: 0, inFlight: 0, pendingStops: 0, unfrozen: [] as string[] };
    runtime = await Runtime.start({
      inspect: (event) => {
        const context = contextOf(event);
        if (!context) return;
        const check = (what: string, value: object): void => {
          if (!Object.isFrozen(value)) shown.unfrozen.push(what);
        };
        for (const write of queueOf(event) ?? []) {
          check('queued write', write);
          check('queued request', write.request);
        }
        if (typeof context.queue === 'object' && context.queue !== null) {
          shown.queues++;
          check('queue', context.queue);
        }
        if (context.inFlight) {
          shown.inFlight++;
          check('write in flight', context.inFlight);
          for (const write of context.inFlight.writes ?? []) check('store write in flight', write as object);
        }
        if (context.pendingStop) {
          shown.pendingStops++;
          check('deferred stop', context.pendingStop);
        }
      },
    });
    const session = await runtime.session('frozen');
    await session.defineVariable('a', 'string', 'x');
    // A stop that arrives while the batch is in flight waits for it.
    const writing = session.setVariables({ a: 'y' });
    const stopping = session.stop();
    await Promise.all([writing, stopping]);

    expect(shown.queues).toBeGreaterThan(0);
    expect(shown.inFlight).toBeGreaterThan(0);
    expect(shown.pendingStops).toBeGreaterThan(0);
    expect(shown.unfrozen).toEqual([]);
  });
});
