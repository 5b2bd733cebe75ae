/**
 * Counter children and the probes the supervisor tests (test/runtime/supervisor-*.test.ts) use: children by id, a
 * supervisor of three, and waits for a restart or the order of exits.
 */
import {
  Supervisor,
  type ChildSpec,
  type ProcessRef,
  type ProcessRuntime,
  type RestartType,
  type SupervisorOptions,
} from '../../src/runtime/index.js';
import { counterMachine } from '../runtime/fixtures.js';
import { waitFor } from './wait-for.js';

/** A counter child registered under its own id, so `whereis(id)` finds the current incarnation. */
export function counter(id: string, restart?: RestartType): ChildSpec {
  return { id, start: () => ({ logic: counterMachine, name: id }), ...(restart ? { restart } : {}) };
}

/** A supervisor of counters a, b and c on `runtime`, with `options`. */
export function startAbc(runtime: ProcessRuntime, options: Partial<SupervisorOptions> = {}): Supervisor {
  return Supervisor.start(runtime, { children: [counter('a'), counter('b'), counter('c')], ...options });
}

/** Resolves once `name` is registered to a process other than `previous`: the child was restarted. */
export function restarted(
  runtime: ProcessRuntime,
  name: string,
  previous: ProcessRef | undefined,
): Promise<ProcessRef> {
  return waitFor(
    () => {
      const current = runtime.whereis(name);
      return current !== previous ? current : undefined;
    },
    { message: `${name} restarted` },
  );
}

/** Counters a, b and c that record each start() call in `started`, in the order the supervisor makes them. */
export function recordedAbc(started: string[]): ChildSpec[] {
  return ['a', 'b', 'c'].map((id) => ({
    id,
    start: () => {
      started.push(id);
      return { logic: counterMachine, name: id };
    },
  }));
}

/** Records the order in which processes exit. */
export function exitOrder(refs: readonly (ProcessRef | undefined)[]): string[] {
  const order: string[] = [];
  for (const ref of refs) if (ref) void ref.exited.then(() => order.push(ref.name ?? ref.id));
  return order;
}
