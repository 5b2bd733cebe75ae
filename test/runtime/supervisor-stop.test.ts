import { describe, expect, it } from 'vitest';
import { createMachine, type AnyActorLogic } from 'xstate';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { ChildStartError } from '../../src/errors.js';
import { Supervisor, type ChildSpec } from '../../src/runtime/index.js';
import { waitFor } from '../support/wait-for.js';
import { counterMachine } from './fixtures.js';
import { exitOrder, startAbc } from '../support/supervisor-children.js';

const createRuntime = useProcessRuntimes();

describe('Supervisor', () => {
  it('stops its children newest first before it exits', async () => {
    const runtime = createRuntime();
    const sup = startAbc(runtime);
    const children = ['a', 'b', 'c'].map((name) => runtime.whereis(name));
    const order = exitOrder([...children, sup.ref]);
    await sup.stop();
    await Promise.resolve();
    expect(order).toEqual(['c', 'b', 'a', sup.ref.id]);
    expect(children.map((ref) => ref?.exitReason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
  });

  it('restarts nothing while the runtime stops everything', async () => {
    const runtime = createRuntime();
    startAbc(runtime, { strategy: 'one_for_all' });
    await runtime.stopAll();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runtime.processes()).toEqual([]);
  });

  it("leaves no child running when a child's start stops the supervisor, and says so", async () => {
    const runtime = createRuntime();
    const stopsSupervisor = createMachine({ entry: () => void runtime.stop('sup') });
    const child = (id: string, logic: AnyActorLogic = counterMachine): ChildSpec => ({
      id,
      start: () => ({ logic, name: id }),
    });
    const started = (() => {
      try {
        Supervisor.start(runtime, {
          name: 'sup',
          children: [child('a'), child('b', stopsSupervisor), child('c')],
        });
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(started).toBeInstanceOf(ChildStartError);
    expect(started).toMatchObject({ details: { supervisor: 'sup', childId: 'b' } });
    await waitFor(() => runtime.processes().length === 0, { message: 'nothing of the supervisor left running' });
    expect(['sup', 'a', 'b', 'c'].map((name) => runtime.whereis(name))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
