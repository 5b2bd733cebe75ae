/**
 * `Runtime.stop()` goes through the supervision tree, as OTP's application shutdown does: a supervisor's children are
 * "started in this order; stopped in reverse" (SupervisorOptions), also once a child was restarted or a dynamic child
 * started. Found by a review: by spawn order alone, a restarted (or on-demand) process was the newest and went first,
 * before the siblings that depend on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromCallback } from 'xstate';
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
});
