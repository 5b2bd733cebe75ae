/**
 * An inspector's error is reported to `onError` as `inspector of process <name>` (README). A process or module stopped
 * for good while it hibernates is shown stopped through an actor made for the inspector alone, whose system nobody
 * attributed to the process: what the inspector threw there was kept with the errors of actors not attributed yet, for
 * good, neither reported nor logged. Now that actor is attributed to the process first, and its error reported.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMachine, type InspectionEvent } from 'xstate';
import { Runtime, createEchoModel } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

/**
 * An inspector that fails only on a snapshot of a stopped process actor (a tool that cannot draw that status);
 * XState's own child actors (a module's `runner`) are left alone.
 */
function failsOnStopped(event: InspectionEvent): void {
  if (event.type !== '@xstate.snapshot' || (event.snapshot as { status?: string }).status !== 'stopped') return;
  if ((event.actorRef as unknown as { id: string }).id === 'runner') return;
  throw new Error('cannot show a stopped actor');
}

const toggle = createMachine({ id: 'toggle', initial: 'a', states: { a: { on: { go: 'b' } }, b: {} } });

describe('inspector error at the stop of a hibernating process', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('is reported for a process stopped asleep, as for one stopped awake', async () => {
    const reports: string[] = [];
    runtime = await Runtime.start({ onError: (_error, where) => reports.push(where), inspect: failsOnStopped });
    const awake = runtime.spawn(toggle, { name: 'awake' });
    const sleepy = runtime.spawn(toggle, { name: 'sleepy', hibernateAfter: 20 });
    await waitFor(() => sleepy.hibernating, { message: 'sleepy hibernates' });

    await runtime.stopProcess(awake);
    await runtime.stopProcess(sleepy);

    expect(reports).toEqual(['inspector of process awake', 'inspector of process sleepy']);
  });

  it('is reported for a module stopped for good while it hibernates', async () => {
    const reports: string[] = [];
    runtime = await Runtime.start({
      llm: createEchoModel(),
      sessionTtlMs: 60_000,
      hibernateAfterMs: 100,
      onError: (_error, where) => reports.push(where),
      inspect: failsOnStopped,
    });
    const session = await runtime.session('asleep-err');
    await session.defineVariable('t', 'float', 0.1);
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    await qa.execute({ question: 'q' });
    await waitFor(
      async () => {
        await session.hasVariable('t'); // keeps the session itself in use
        return runtime!.whereis('tether.module.asleep-err.qa') === undefined;
      },
      { interval: 20, message: 'qa hibernates' },
    );

    await qa.stop();

    expect(reports).toEqual(['inspector of process tether.module.asleep-err.qa']);
  });
});
