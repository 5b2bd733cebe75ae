import { describe, expect, it } from 'vitest';
import { ChildStartError, ValidationError } from '../../src/errors.js';
import { DynamicSupervisor, Supervisor } from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** What a start() given `process` is refused with: its ChildStartError's cause. */
function refusal(start: () => unknown): ValidationError {
  let thrown: unknown;
  try {
    start();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ChildStartError);
  const cause = (thrown as ChildStartError).cause;
  expect(cause).toBeInstanceOf(ValidationError);
  return cause as ValidationError;
}

describe("a supervisor adopting a process its child's start() returns", () => {
  // Found by an audit: accepted, the supervisor's stop waited for its own exit and never settled.
  it('refuses its own ref, and its stop still settles', async () => {
    const runtime = createRuntime();
    const workers = DynamicSupervisor.start(runtime, { name: 'workers' });

    const cause = refusal(() => workers.startChild({ start: () => ({ process: workers.ref }) }));

    expect(cause.message).toBe("process 'workers' cannot be a child of supervisor 'workers': it is that supervisor");
    expect(cause.details).toEqual({ field: 'process', processId: workers.ref.id, supervisorId: workers.ref.id });
    expect(workers.count).toBe(0);
    await workers.stop();
    expect(workers.exitReason).toBe('shutdown');
  });

  it('refuses a supervisor above it in the tree, which stays up with its children', async () => {
    const runtime = createRuntime();
    let inner: DynamicSupervisor | undefined;
    const top = Supervisor.start(runtime, {
      name: 'top',
      children: [{ id: 'inner', start: () => ({ process: (inner = DynamicSupervisor.start(runtime, {})).ref }) }],
    });

    const cause = refusal(() => inner!.startChild({ start: () => ({ process: top.ref }) }));

    expect(cause.message).toBe(
      `process 'top' cannot be a child of supervisor '${inner!.ref.id}': it supervises that supervisor`,
    );
    expect(top.alive).toBe(true);
    expect(top.child('inner')).toBe(inner!.ref);
    await top.stop();
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses a child of another live supervisor, which keeps it', () => {
    const runtime = createRuntime();
    const first = DynamicSupervisor.start(runtime, { name: 'first' });
    const second = DynamicSupervisor.start(runtime, { name: 'second' });
    const worker = first.startChild({ start: () => ({ logic: counterMachine, name: 'worker' }) });

    const cause = refusal(() => second.startChild({ start: () => ({ process: worker }) }));

    expect(cause.message).toBe(
      "process 'worker' cannot be a child of supervisor 'second': supervisor 'first' supervises it already",
    );
    expect(second.count).toBe(0);
    expect(first.children()).toEqual([worker]);
  });

  it('refuses one process for two children of the same supervisor, starting nothing', () => {
    const runtime = createRuntime();
    const shared = runtime.spawn(counterMachine, { name: 'shared' });

    const cause = refusal(() =>
      Supervisor.start(runtime, {
        name: 'sup',
        children: [
          { id: 'a', start: () => ({ process: shared }) },
          { id: 'b', start: () => ({ process: shared }) },
        ],
      }),
    );

    expect(cause.message).toBe(
      "process 'shared' cannot be a child of supervisor 'sup': it is a child of that supervisor already",
    );
    expect(runtime.whereis('sup')).toBeUndefined();
  });
});
