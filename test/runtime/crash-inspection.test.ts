import { describe, expect, it } from 'vitest';
import { createMachine, fromPromise, type InspectionEvent } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { crashOnBoomMachine, crashOnStartMachine } from './fixtures.js';
import { waitFor } from '../support/wait-for.js';

const createRuntime = useProcessRuntimes();

/** A runtime whose inspector records each snapshot as `<actor id> <event> [<status>]`. */
function inspectedRuntime(): { runtime: ReturnType<typeof createRuntime>; lines: string[] } {
  const lines: string[] = [];
  const runtime = createRuntime({
    onError: () => {},
    inspect: (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot') return;
      const { id } = event.actorRef as unknown as { id: string };
      lines.push(`${id} ${event.event.type} [${(event.snapshot as { status: string }).status}]`);
    },
  });
  return { runtime, lines };
}

describe('crash inspection', () => {
  // Found in an audit: a crash XState inspects itself (a logic whose transition ends in an error snapshot) was shown
  // twice, the runtime's snapshot of it and XState's, as if the process had crashed twice.
  it('shows a machine that crashes on a child error it does not handle once, before the exits it causes', async () => {
    const { runtime, lines } = inspectedRuntime();
    const loader = runtime.spawn(
      createMachine({
        initial: 'loading',
        states: {
          loading: {
            invoke: {
              id: 'fetch',
              src: fromPromise(async () => {
                throw new Error('fetch failed');
              }),
            },
          },
        },
      }),
      { name: 'loader' },
    );
    const linked = runtime.spawn(createMachine({}), { name: 'linked' });
    runtime.link(loader, linked);
    await waitFor(() => !linked.alive, { message: 'the linked process exited with the loader' });
    expect(lines.filter((line) => line.startsWith('loader ') || line.startsWith('linked '))).toEqual([
      'loader xstate.init [active]',
      'linked xstate.init [active]',
      'loader xstate.error [error]',
      'linked xstate.stop [stopped]',
    ]);
  });

  it('shows a promise process that rejects crashed once', async () => {
    const { runtime, lines } = inspectedRuntime();
    const ref = runtime.spawn(
      fromPromise(async () => {
        throw new Error('rejected');
      }),
      { name: 'promise' },
    );
    await ref.exited;
    expect(lines).toEqual(['promise xstate.init [active]', 'promise xstate.error [error]']);
  });

  it('still shows a crash XState inspects no snapshot for, from an action or while starting', async () => {
    const { runtime, lines } = inspectedRuntime();
    const fragile = runtime.spawn(crashOnBoomMachine, { name: 'fragile' });
    runtime.cast(fragile, { type: 'boom' });
    runtime.spawn(crashOnStartMachine, { name: 'stillborn' });
    await waitFor(() => lines.includes('stillborn xstate.error [error]'), { message: 'the failed start shown' });
    expect(lines).toEqual([
      'fragile xstate.init [active]',
      'fragile xstate.error [error]',
      'stillborn xstate.init [active]',
      'stillborn xstate.error [error]',
    ]);
  });
});
