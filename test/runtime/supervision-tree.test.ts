import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { ChildStartError, NoProcError, ValidationError } from '../../src/errors.js';
import {
  DynamicSupervisor,
  ProcessRuntime,
  Supervisor,
  type ChildSpec,
  type ProcessRef,
} from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { waitFor } from '../support/wait-for.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** A counter child registered under its own id. */
function counter(id: string): ChildSpec {
  return { id, start: () => ({ logic: counterMachine, name: id }) };
}

/** A child spec starting a nested supervisor `name` over counters `ids`, each start recorded in `started`. */
function nested(runtime: ProcessRuntime, name: string, ids: string[], started: Supervisor[] = []): ChildSpec {
  return {
    id: name,
    start: () => {
      const inner = Supervisor.start(runtime, { name, children: ids.map(counter), maxRestarts: 1, maxSeconds: 60 });
      started.push(inner);
      return { process: inner.ref };
    },
  };
}

/** Resolves once `name` is registered to a process other than `previous`. */
function replaced(runtime: ProcessRuntime, name: string, previous: ProcessRef | undefined): Promise<ProcessRef> {
  return waitFor(() => {
    const current = runtime.whereis(name);
    return current !== previous ? current : undefined;
  });
}

describe('a supervision tree (a supervisor under a supervisor)', () => {
  it("restarts a crashed grandchild in its own supervisor, leaving the parent's other children alone", async () => {
    const runtime = createRuntime();
    const inners: Supervisor[] = [];
    const top = Supervisor.start(runtime, {
      name: 'top',
      children: [nested(runtime, 'inner', ['a', 'b'], inners), counter('c')],
    });
    const [a, c] = [runtime.whereis('a'), runtime.whereis('c')];
    expect(top.which().map((child) => child.id)).toEqual(['inner', 'c']);
    expect(top.child('inner')).toBe(inners[0]!.ref);

    runtime.cast('a', { type: 'crash' });
    await replaced(runtime, 'a', a);

    expect(inners).toHaveLength(1);
    expect(runtime.whereis('inner')).toBe(inners[0]!.ref);
    expect(runtime.whereis('c')).toBe(c);
  });

  it('starts the nested supervisor again, with new children, once it gives up restarting them', async () => {
    const runtime = createRuntime();
    const inners: Supervisor[] = [];
    Supervisor.start(runtime, { name: 'top', children: [nested(runtime, 'inner', ['a'], inners)] });
    for (let crash = 0; crash < 2; crash++) {
      const a = await waitFor(() => runtime.whereis('a'));
      runtime.cast(a, { type: 'crash' });
      if (crash === 0) await replaced(runtime, 'a', a);
    }
    await expect(inners[0]!.exited).resolves.toBe('shutdown');
    await waitFor(() => inners.length === 2 && runtime.whereis('a') !== undefined, { message: 'inner started again' });
    expect(runtime.whereis('inner')).toBe(inners[1]!.ref);
  });

  it("stops the nested supervisor's children, newest first, before the parent's other children and itself", async () => {
    const runtime = createRuntime();
    const top = Supervisor.start(runtime, {
      name: 'top',
      children: [counter('first'), nested(runtime, 'inner', ['a', 'b'])],
    });
    const refs = ['first', 'inner', 'a', 'b'].map((name) => runtime.whereis(name)!);
    const order: string[] = [];
    for (const ref of [...refs, top.ref]) void ref.exited.then(() => order.push(ref.name!));

    await top.stop();
    await Promise.resolve();

    expect(order).toEqual(['b', 'a', 'inner', 'first', 'top']);
    expect(runtime.processes()).toEqual([]);
  });

  // Found by a review: the parent stopped its older child while the nested supervisor still waited for its own child.
  it("stops the parent's older children only once a nested supervisor has exited, its child mid-transition", async () => {
    const runtime = createRuntime();
    const stopsTop = setup({}).createMachine({ on: { shutdown: { actions: () => void runtime.stop('top') } } });
    const top = Supervisor.start(runtime, {
      name: 'top',
      children: [
        counter('first'),
        {
          id: 'inner',
          start: () => ({
            process: Supervisor.start(runtime, {
              name: 'inner',
              children: [{ id: 'x', start: () => ({ logic: stopsTop, name: 'x' }) }],
            }).ref,
          }),
        },
      ],
    });
    const order: string[] = [];
    for (const ref of [...['first', 'inner', 'x'].map((name) => runtime.whereis(name)!), top.ref])
      void ref.exited.then(() => order.push(ref.name!));

    runtime.cast('x', { type: 'shutdown' });
    await top.exited;

    expect(order).toEqual(['x', 'inner', 'first', 'top']);
  });

  it('supervises a DynamicSupervisor too, whose children the start function can reach', async () => {
    const runtime = createRuntime();
    let workers: DynamicSupervisor | undefined;
    Supervisor.start(runtime, {
      children: [{ id: 'workers', start: () => ({ process: (workers = DynamicSupervisor.start(runtime, {})).ref }) }],
    });
    const first = workers!;
    const worker = first.startChild({ start: () => ({ logic: counterMachine }) });
    expect(first.children()).toEqual([worker]);

    await runtime.stop(first.ref, { error: new Error('boom') });
    await waitFor(() => workers !== first && workers!.alive, { message: 'the workers supervisor started again' });
    expect(worker.alive).toBe(false);
    expect(workers!.children()).toEqual([]);
  });

  // Found by a review: the supervisor started by a refused start() ran on, holding its name.
  it('stops what a refused start() started: a supervisor given rather than its ref, a ref with another key', async () => {
    const runtime = createRuntime();
    const refusals: unknown[] = [];
    const starts = [
      () => ({ process: DynamicSupervisor.start(runtime, { name: 'workers' }) }),
      () => ({ process: DynamicSupervisor.start(runtime, { name: 'workers' }).ref, name: 'workers' }),
    ];
    for (const start of [...starts, ...starts]) {
      try {
        Supervisor.start(runtime, { children: [{ id: 'workers', start: start as never }] });
      } catch (error) {
        refusals.push(error);
      }
      await waitFor(() => runtime.whereis('workers') === undefined, { message: 'the refused supervisor stopped' });
    }
    const causes = refusals.map((error) => (error as ChildStartError).cause as ValidationError);
    expect(causes.map((cause) => cause.code)).toEqual(Array(4).fill('validation_failed'));
    expect(causes[0]!.message).toMatch(/got an object \(a supervisor\? give its ref\)$/);
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses a process that is no process handle, is gone, or is another runtime’s, as a failed start', () => {
    const runtime = createRuntime();
    const other = createRuntime().spawn(counterMachine);
    const gone = runtime.spawn(counterMachine);
    void runtime.stop(gone);
    const cases: [process: unknown, cause: unknown][] = [
      ['workers', expect.any(ValidationError)],
      [{ id: '<0.99>' }, expect.any(NoProcError)],
      [gone, expect.any(NoProcError)],
      [
        other,
        expect.objectContaining({
          code: 'noproc',
          message: expect.stringMatching(/is not a process of this supervisor's runtime$/),
        }),
      ],
    ];
    for (const [process, cause] of cases) {
      let refusal: unknown;
      try {
        Supervisor.start(runtime, { children: [{ id: 'x', start: () => ({ process }) as never }] });
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ChildStartError);
      expect((refusal as ChildStartError).cause).toEqual(cause);
    }
    expect(() =>
      Supervisor.start(runtime, { children: [{ id: 'x', start: () => ({ process: other, name: 'n' }) as never }] }),
    ).toThrow(ChildStartError);
    expect(runtime.processes()).toEqual([]);
  });
});
