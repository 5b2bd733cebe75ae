/**
 * XState shows an inspector each event (`@xstate.event`) before the process handles it, the very object the process
 * then reads. The objects of a session's and a module's events were frozen, the events themselves were not: an
 * inspector that masked a field for display by putting a masked copy on the event (`event.request = { ...request,
 * value: '***' }`, as a frozen request leaves it to do) wrote the mask, ran the model on masked inputs, handed the
 * caller a masked result, and one that renamed a call's `callId` left the caller waiting until its timeout. The events
 * the runtime makes for its processes are frozen now: an inspector reads them and changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Runtime, createEchoModel } from '../src/index.js';
import { counterMachine } from './runtime/fixtures.js';

type Masks = Record<string, (event: Record<string, unknown>) => void>;

/** An inspector that replaces fields of the events it is shown, by type, as a display masker would. */
function masking(masks: Masks): { inspect: (event: InspectionEvent) => void; refused: string[] } {
  const refused: string[] = [];
  const inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.event') return;
    const shown = event.event as Record<string, unknown>;
    const mask = masks[shown.type as string];
    if (!mask) return;
    try {
      mask(shown);
    } catch {
      refused.push(shown.type as string);
    }
  };
  return { inspect, refused };
}

const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

describe('the events Tether sends its processes, under an inspector that edits them', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it("change no session write and nothing the session holds when the inspector replaces the event's fields", async () => {
    const { inspect, refused } = masking({
      write: (event) => {
        event.request = { ...(event.request as object), value: 0.999 };
      },
      'store.loaded': (event) => {
        event.entries = [];
      },
      'store.changed': (event) => {
        event.changes = [];
      },
      'store.committed': (event) => {
        event.revisions = [];
      },
    });
    runtime = await Runtime.start({ inspect });
    const session = await runtime.session('masked');
    await session.defineVariable('t', 'float', 0.1);
    await session.setVariable('t', 0.2);
    expect(await session.getVariable('t')).toBe(0.2);
    expect(refused).toEqual(expect.arrayContaining(['write', 'store.loaded', 'store.committed']));
  });

  it("runs an execution on the caller's inputs and hands the caller its own result", async () => {
    const { inspect, refused } = masking({
      execute: (event) => {
        event.inputs = { question: '***' };
      },
      'execution.done': (event) => {
        event.result = { ...(event.result as object), output: { answer: 'MASKED' } };
      },
    });
    runtime = await Runtime.start({ llm: createEchoModel(), inspect });
    const session = await runtime.session('masked-module');
    const qa = await session.module('qa', spec);
    const result = await qa.execute({ question: 'hello' });
    expect(result.output.answer).toContain('hello');
    expect(refused).toEqual(['execute', 'execution.done']);
  });

  it("ends a deleted session as deleted when the inspector rewrites the end's reason", async () => {
    const { inspect, refused } = masking({
      'session.end': (event) => {
        event.reason = 'expired';
      },
    });
    runtime = await Runtime.start({ inspect });
    const session = await runtime.session('masked-end');
    await session.defineVariable('t', 'float', 0.1);
    await session.delete();
    await expect(session.getVariable('t')).rejects.toMatchObject({ code: 'session_not_found' });
    expect(refused).toEqual(['session.end']);
  });

  it('answers a call to a process whose inspector renames the callId it is shown', async () => {
    const { inspect } = masking({
      increment: (event) => {
        event.callId = 'hidden';
      },
    });
    runtime = await Runtime.start({ inspect });
    const counter = runtime.spawn(counterMachine, { name: 'counter' });
    await expect(runtime.call(counter, { type: 'increment' }, { timeout: 500 })).resolves.toBe(1);
  });
});
