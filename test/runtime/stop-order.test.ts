/**
 * `Runtime.stop()` goes through the supervision tree, as OTP's application shutdown does: a supervisor's children are
 * "started in this order; stopped in reverse" (SupervisorOptions), also once a child was restarted or a dynamic child
 * started. Found by a review: by spawn order alone, a restarted (or on-demand) process was the newest and went first,
 * before the siblings that depend on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromCallback, setup } from 'xstate';
import { Runtime } from '../../src/node/runtime.js';
import { DynamicSupervisor, Supervisor, type ChildSpec } from '../../src/runtime/index.js';
import { waitFor } from '../support/wait-for.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.stop();
});

/** Logic whose stop is recorded in `stopped` under `label`: a callback actor's cleanup runs when it is stopped. */
function recording(stopped: string[], label: string) {
  return fromCallback(() => () => void stopped.push(label));
}

function worker(stopped: string[], id: string): ChildSpec {
  return { id, start: () => ({ logic: recording(stopped, id), name: id }) };
}

describe('Runtime.stop() and a supervision tree', () => {
  it("stops a supervisor's children in reverse child order after one of them was restarted", async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    const stopped: string[] = [];
    Supervisor.start(runtime, {
      strategy: 'one_for_one',
      children: [worker(stopped, 'db'), worker(stopped, 'cache'), worker(stopped, 'web')],
    });
    const db = runtime.whereis('db');
    await runtime.stopProcess('db', 'connection_lost'); // a crash-like exit: restarted under its name
    await waitFor(() => runtime.whereis('db') !== undefined && runtime.whereis('db') !== db, { message: 'db back' });
    stopped.length = 0;

    await runtime.stop();

    // web and cache use db: they go first, as sup.stop() and OTP's shutdown would stop them.
    expect(stopped).toEqual(['web', 'cache', 'db']);
  });

  it("stops a later static sibling before a DynamicSupervisor's workers it routes requests to", async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    const stopped: string[] = [];
    let pool!: DynamicSupervisor;
    Supervisor.start(runtime, {
      children: [
        { id: 'pool', start: () => ({ process: (pool = DynamicSupervisor.start(runtime, { name: 'pool' })).ref }) },
        worker(stopped, 'api'),
      ],
    });
    // A worker started on demand, after the tree came up (the usual DynamicSupervisor use).
    pool.startChild({ start: () => ({ logic: recording(stopped, 'job-1'), name: 'job-1' }) });

    await runtime.stop();

    // The top supervisor stops `api` (started after `pool`) first, then `pool` with its workers.
    expect(stopped).toEqual(['api', 'job-1']);
  });

  // Found by a review: the siblings started before it were stopped at once, while it still ran (web, db, then api).
  it('stops the siblings started before a worker that called it only once that worker has exited', async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    // A worker handling a "shut down" command, which still uses `db` in the same transition.
    let dbAliveAfterAsking: boolean | undefined;
    const api = setup({}).createMachine({
      on: {
        shutdown: {
          actions: [
            () => void runtime.stop(),
            () => {
              dbAliveAfterAsking = runtime.isAlive('db');
            },
          ],
        },
      },
    });
    const idle = fromCallback(() => () => {});
    Supervisor.start(runtime, {
      children: ['db', 'api', 'web'].map((id) => ({
        id,
        start: () => ({ logic: id === 'api' ? api : idle, name: id }),
      })),
    });
    const order: string[] = [];
    for (const name of ['db', 'api', 'web']) void runtime.whereis(name)!.exited.then(() => order.push(name));

    runtime.cast('api', { type: 'shutdown' });
    await runtime.stop();

    expect(dbAliveAfterAsking).toBe(true);
    expect(order).toEqual(['web', 'api', 'db']);
  });

  // Found by mutation testing: a sibling stopped for a restart, still exiting when the supervisor was stopped, was not
  // waited for, and the supervisor stopped the siblings started before it at once (db, then web).
  it('stops the siblings started before a child it was stopping for a restart only once that child has exited', async () => {
    const runtime = await Runtime.start({ onError: () => {} });
    runtimes.push(runtime);
    let sup!: Supervisor;
    // A worker whose shutdown takes its whole tree down with it: the supervisor is stopped while web is still exiting.
    const web = fromCallback(() => () => void sup.stop());
    const idle = fromCallback(() => () => {});
    sup = Supervisor.start(runtime, {
      strategy: 'one_for_all',
      children: ['db', 'cache', 'web'].map((id) => ({
        id,
        start: () => ({ logic: id === 'web' ? web : idle, name: id }),
      })),
    });
    const order: string[] = [];
    for (const name of ['db', 'web']) void runtime.whereis(name)!.exited.then(() => order.push(name));

    // A crash-like exit of cache: the supervisor stops web (then db) to restart all three.
    await runtime.stopProcess('cache', 'connection_lost');
    await sup.exited;
    await waitFor(() => order.length === 2, { message: 'db and web exited' });

    expect(order).toEqual(['web', 'db']);
  });
});
