/**
 * A supervisor exits after its children (README: `runtime.stop(supervisor.ref)` "terminates its children, newest
 * first, before it exits"; `exited` "settles once the supervisor (and so every child) has exited"), also a child in
 * the middle of a transition when the supervisor goes down, which XState stops only once that transition is over
 * (found by a review: the supervisor exited at once, its child still alive and holding its name).
 */
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { Supervisor, type ExitNotice } from '../../src/runtime/index.js';
import { idleLogic } from './fixtures.js';

const createRuntime = useProcessRuntimes();

describe('a supervisor exits after its children', () => {
  it('has no child alive, nor its name held, when a linked owner hears of its exit, though that child asked for the stop', async () => {
    const runtime = createRuntime();
    // An owner that traps exits (as the README's trap_exit section describes) and notes, at the supervisor's EXIT, whether
    // the supervisor's worker is still registered: an owner starting the tree again would need the name free.
    const seen: { workerAlive: boolean; reason: unknown }[] = [];
    const owner = runtime.spawn(
      setup({ types: { events: {} as ExitNotice } }).createMachine({
        on: {
          EXIT: { actions: ({ event }) => seen.push({ workerAlive: runtime.isAlive('worker'), reason: event.reason }) },
        },
      }),
      { trapExit: true },
    );
    let sup!: Supervisor;
    // A worker that, on a fatal condition, stops its own supervision tree.
    const worker = setup({ types: { context: {} as { n: number } } }).createMachine({
      context: { n: 0 },
      on: {
        fatal: {
          actions: [() => void sup.stop(), assign({ n: ({ context }) => context.n + 1 })],
        },
      },
    });
    sup = Supervisor.start(runtime, {
      name: 'tree',
      children: [{ id: 'worker', start: () => ({ logic: worker, name: 'worker' }) }],
    });
    runtime.link(owner, sup.ref);
    const child = runtime.whereis('worker')!;
    const order: string[] = [];
    void child.exited.then(() => order.push('worker'));
    void sup.exited.then(() => order.push('tree'));

    runtime.cast('worker', { type: 'fatal' });
    await sup.exited;
    await child.exited;

    expect(seen).toHaveLength(1);
    expect(seen[0]!.workerAlive, 'the worker was still alive when its supervisor had exited').toBe(false);
    expect(order).toEqual(['worker', 'tree']);
  });

  it('lets the owner start the tree again from its EXIT handler: the old worker no longer holds its name', async () => {
    const runtime = createRuntime();
    const restartErrors: unknown[] = [];
    let sup!: Supervisor;
    const worker = setup({}).createMachine({ on: { fatal: { actions: () => void sup.stop() } } });
    const startTree = () =>
      Supervisor.start(runtime, { children: [{ id: 'worker', start: () => ({ logic: worker, name: 'worker' }) }] });
    const owner = runtime.spawn(
      setup({ types: { events: {} as ExitNotice } }).createMachine({
        on: {
          EXIT: {
            actions: () => {
              if (runtime.stopping) return;
              try {
                sup = startTree();
              } catch (error) {
                restartErrors.push(error);
              }
            },
          },
        },
      }),
      { trapExit: true },
    );
    sup = startTree();
    const first = sup;
    runtime.link(owner, sup.ref);

    runtime.cast('worker', { type: 'fatal' });
    await first.exited;

    expect(restartErrors.map((error) => (error as Error).message)).toEqual([]);
    expect(sup).not.toBe(first);
    expect(runtime.isAlive('worker')).toBe(true);
  });

  // Found by a review: the children started before it were stopped at once, while it still ran (c, a, then b).
  it('stops the children started before a child that asked for the shutdown only once that child has exited', async () => {
    const runtime = createRuntime();
    // A worker that, on `shutdown`, stops its supervision tree and then, in the same transition, still uses `a`, the
    // sibling started before it.
    let aAliveAfterAsking: boolean | undefined;
    const worker = setup({}).createMachine({
      on: {
        shutdown: {
          actions: [
            () => void runtime.stop('tree'),
            () => {
              aAliveAfterAsking = runtime.isAlive('a');
            },
          ],
        },
      },
    });
    const sup = Supervisor.start(runtime, {
      name: 'tree',
      children: ['a', 'b', 'c'].map((id) => ({
        id,
        start: () => ({ logic: id === 'b' ? worker : idleLogic, name: id }),
      })),
    });
    const order: string[] = [];
    for (const ref of [...['a', 'b', 'c'].map((name) => runtime.whereis(name)!), sup.ref])
      void ref.exited.then(() => order.push(ref.name!));

    runtime.cast('b', { type: 'shutdown' });
    await sup.exited;

    expect(aAliveAfterAsking).toBe(true);
    expect(order).toEqual(['c', 'b', 'a', 'tree']);
  });
});
