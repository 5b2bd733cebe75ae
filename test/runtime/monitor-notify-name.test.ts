/**
 * A monitor whose notice goes to `{ notify: <name> }` is the monitor of the process that held the name when
 * `monitor()` was called (Elixir's monitors belong to a pid). Its DOWN never reaches another process that takes the
 * name later: the notice is dropped when its owner is gone, as a notice to a dead pid is.
 */
import { describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
import type { ExitNotice } from '../../src/runtime/index.js';
import { counterMachine } from './fixtures.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';

const newRuntime = useProcessRuntimes();

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('a { notify: name } monitor belongs to the process that held the name', () => {
  it('does not hand the DOWN of a target to the next process of the name, restarted by a trapping owner', async () => {
    const runtime = newRuntime();
    runtime.spawn(counterMachine, { name: 'db' });
    const startWorker = () => {
      const worker = runtime.spawn(counterMachine, { name: 'worker' });
      // The worker watches 'db' and is linked to it (dies with it), as a GenServer using a connection does.
      runtime.monitor('db', { notify: 'worker' });
      runtime.link(worker, 'db');
      return worker;
    };
    const first = startWorker();
    // The owner traps exits and starts a fresh worker when the old one dies: the README's pattern of an owner
    // starting its tree again from its EXIT handler.
    const owner = runtime.spawn(
      fromCallback<ExitNotice>(({ receive }) => {
        receive((notice) => {
          if (notice.type === 'EXIT' && notice.name === 'worker' && !runtime.stopping)
            runtime.link(runtime.spawn(counterMachine, { name: 'worker' }), 'owner');
        });
      }),
      { name: 'owner', trapExit: true },
    );
    runtime.link(first, owner);

    runtime.cast('db', { type: 'crash' });
    await settle();

    const second = runtime.whereis('worker')!;
    expect(first.alive).toBe(false);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    // The new worker never monitored 'db' (it was not even alive when 'db' went down): it must hear nothing.
    expect(second.getSnapshot().context.downs).toEqual([]);
  });

  it('does not hand the DOWN to a process that took the name after the watcher exited, in the same tick', async () => {
    const runtime = newRuntime();
    const db = runtime.spawn(counterMachine, { name: 'db' });
    const first = runtime.spawn(counterMachine, { name: 'worker' });
    runtime.monitor(db, { notify: 'worker' });
    void runtime.stop(db);
    void runtime.stop(first);
    const second = runtime.spawn(counterMachine, { name: 'worker' });
    await settle();
    expect(second.getSnapshot().context.downs).toEqual([]);
  });

  it("does not hand a 'noproc' notice to the next process of the name", async () => {
    const runtime = newRuntime();
    const first = runtime.spawn(counterMachine, { name: 'worker' });
    runtime.monitor('nobody', { notify: 'worker' });
    void runtime.stop(first);
    const second = runtime.spawn(counterMachine, { name: 'worker' });
    await settle();
    expect(second.getSnapshot().context.downs).toEqual([]);
  });
});
