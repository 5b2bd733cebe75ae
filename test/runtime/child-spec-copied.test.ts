/**
 * A supervisor runs the child spec it was given and checked, not whatever the caller's object says later: OTP child
 * specs are data, copied into the supervisor (found by a review: a restart read `start` and `restart` from the
 * caller's object again).
 */
import { describe, expect, it } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { waitFor } from '../support/wait-for.js';
import {
  DynamicSupervisor,
  Supervisor,
  type ChildSpec,
  type ChildStart,
  type ProcessRef,
  type RestartType,
} from '../../src/runtime/index.js';
import { counterMachine } from './fixtures.js';

const createRuntime = useProcessRuntimes();

function restartedUnder(runtime: ReturnType<typeof createRuntime>, name: string, previous: ProcessRef) {
  return waitFor(
    () => {
      const current = runtime.whereis(name);
      return current !== undefined && current !== previous ? current : undefined;
    },
    { message: `${name} restarted` },
  );
}

describe('child specs are captured when the child starts', () => {
  it('DynamicSupervisor restarts a child with its own start(), though the caller reused the spec object for the next child', async () => {
    const runtime = createRuntime();
    const pool = DynamicSupervisor.start(runtime, { name: 'pool' });
    // One spec object filled in for each child: a common way to start a batch of children.
    const spec: { start: () => ChildStart; restart?: RestartType } = {
      start: () => ({ logic: counterMachine, name: 'w1' }),
    };
    const w1 = pool.startChild(spec);
    spec.start = () => ({ logic: counterMachine, name: 'w2' });
    const w2 = pool.startChild(spec);

    runtime.cast(w1, { type: 'crash' });

    // w1 is restarted as w1. Calling the changed start() instead (w2's name, taken) fails until the intensity runs
    // out, and the pool gives up, taking the healthy w2 down with it.
    const again = await restartedUnder(runtime, 'w1', w1).catch(() => undefined);
    expect(again?.alive, 'w1 restarted under its own name').toBe(true);
    expect(pool.alive).toBe(true);
    expect(w2.alive).toBe(true);
  });

  it('Supervisor keeps the restart type it validated, whatever the caller later writes into its spec object', async () => {
    const runtime = createRuntime();
    const spec: { -readonly [K in keyof ChildSpec]: ChildSpec[K] } = {
      id: 'a',
      start: () => ({ logic: counterMachine, name: 'a' }),
      restart: 'permanent',
    };
    const sup = Supervisor.start(runtime, { children: [spec] });
    // A value Supervisor.start refuses ("refuses an unknown ... restart type ... starts nothing"); written afterwards
    // it silently turns a permanent child into one that is never restarted.
    (spec as { restart: string }).restart = 'permanant';
    const a = runtime.whereis('a')!;

    runtime.cast(a, { type: 'crash' });

    const again = await restartedUnder(runtime, 'a', a).catch(() => undefined);
    expect(again?.alive, 'permanent child a restarted').toBe(true);
    expect(sup.which()[0]?.restart).toBe('permanent');
  });
});
