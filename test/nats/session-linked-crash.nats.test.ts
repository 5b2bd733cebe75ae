/**
 * A user process linked to a session process on a NATS node (found by a review). README: a process taken down by a link is "judged by
 * the reason that came along it, as in Erlang", and a crashed session process "comes back on next use" (the store has
 * every accepted write). A session process taken down by a linked crash is no stop of the session, yet its handles,
 * its watchers and its modules on the node are ended as if `session.stop()` had been called.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

const crashOnBoom = createMachine({
  on: {
    boom: {
      actions: () => {
        throw new Error('worker crashed');
      },
    },
  },
});

describe('a session process taken down by a linked crash on a NATS node', () => {
  it('is judged as crashed: its handle, its watcher and its module go on as after a crash', async () => {
    const errors: string[] = [];
    const runtime = await fx().runtime(fx().buckets(), {
      onError: (error, where) => errors.push(`${where}: ${error}`),
    });
    const session = await runtime.session('linked');
    await session.defineVariable('n', 'integer', 0);
    const heard: number[] = [];
    await session.watchVariables('n', (change) => heard.push(change.newValue as number));
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });

    // A worker of the user's tied to the session's process, as Elixir code links a worker to the server it uses.
    const sessionProcess = runtime.whereis('tether.session.linked')!;
    const worker = runtime.spawn(crashOnBoom, { name: 'worker' });
    runtime.link(worker, sessionProcess);
    runtime.cast(worker, { type: 'boom' });
    await waitFor(() => !sessionProcess.alive, { message: 'the link takes the session process down' });
    // The worker's crash is what came along the link.
    expect(sessionProcess.exitReason).toMatchObject({ linked: worker.id, reason: { error: expect.any(Error) } });

    // Nobody stopped the session: as after a crash of its process, the next use wakes it.
    await expect(session.getVariable('n')).resolves.toBe(0);
    // Its watcher (a node's embedded watch keeps the session awake on the node) still hears other nodes' writes.
    const client = await fx().client();
    await (await client.session('linked')).setVariable('n', 5);
    await waitFor(() => heard.includes(5), { timeout: 3000, message: 'the watcher hears the client write' });
    // Its module was not stopped either.
    await expect(qa.execute({ question: 'still there?' })).resolves.toMatchObject({ output: expect.any(Object) });
  });
});
