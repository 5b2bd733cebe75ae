import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModuleNotFoundError, type Runtime } from '../../src/index.js';
import { ModuleInstance } from '../../src/modules/module-instance.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/**
 * A wake of a module from its spec stops before the build until the test opens the gate: the window in which a
 * wake has read the spec but has no process yet.
 */
const gate = {
  entered: 0,
  open: Promise.resolve(),
  release: () => {},
  close() {
    this.open = new Promise<void>((resolve) => (this.release = resolve));
  },
};
const wake = ModuleInstance.wake.bind(ModuleInstance);
vi.spyOn(ModuleInstance, 'wake').mockImplementation(async (...args) => {
  gate.entered += 1;
  await gate.open;
  return wake(...args);
});

const spec = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };
const plain = { type: 'Predict', signature: 'question:string -> answer:string' };

/** Every process of the module on `runtime` (there should be none once a stop has settled). */
const running = (runtime: Runtime, sessionId: string) => runtime.whereis(moduleProcessName(sessionId, 'qa'));

describe('module stop racing a start', () => {
  // A gate left closed by a failing test would hang the node's stop in the fixture's cleanup.
  afterEach(() => gate.release());

  it('leaves no process when the stop comes while a wake is building the module', async () => {
    const runtime = await fx().runtime(fx().buckets());
    const client = await fx().client({ timeoutMs: 30_000 });
    const session = await client.session('wake-race');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', spec);
    // The spec stays in the bucket, the process goes: the next request must wake the module from the spec.
    await runtime.stopProcess(moduleProcessName('wake-race', 'qa'));
    await waitFor(() => running(runtime, 'wake-race') === undefined);

    gate.close();
    const entered = gate.entered;
    const executing = qa.execute({ question: 'hi' }).then(
      () => 'ran',
      (error: unknown) => error,
    );
    await waitFor(() => gate.entered > entered, { timeout: 15_000, message: 'the wake reached the build' });
    const stopping = qa.stop();
    try {
      // Before the gate opens, the stop has removed the spec (and, unfixed, already looked for a process and left).
      await Promise.race([stopping, waitFor(async () => (await session.modules()).length === 0, { timeout: 15_000 })]);
    } finally {
      // Whatever happened above, an unreleased gate would hang the node's stop in cleanup.
      gate.release();
    }
    await stopping;

    expect(await executing).toBeInstanceOf(ModuleNotFoundError);
    expect(running(runtime, 'wake-race')).toBeUndefined();
    expect(await session.modules()).toEqual([]);
  });

  it('leaves nothing running when the stop comes while the module is being created', async () => {
    // A module is built before its id is claimed (a refused creation writes nothing), so the window in which a stop
    // finds it claimed but not yet running is the claim's own write: node A waits for its acknowledgement, held
    // back by the proxy, while node B stops the module.
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('_INBOX.'));
    try {
      const a = await fx().runtime(buckets, { servers: proxy.url });
      const b = await fx().runtime(buckets);
      const onA = await a.session('create-race');
      const onB = await b.session('create-race');
      const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
      // A node's first write waits for a stamp of its session, read back to learn the server's clock (see
      // session-expiry.ts `fresh`); made before the hold, so that what the hold delays is the claim alone.
      await onA.defineVariable('warm', 'integer', 0);

      proxy.hold();
      const creating = onA.module('qa', plain).then(
        () => 'created',
        (error: unknown) => error,
      );
      await waitFor(async () => (await kv.get('create-race.qa'))?.operation === 'PUT', {
        timeout: 15_000,
        message: 'the claim written',
      });
      // Node B has no process of it: it wakes one from the claimed spec, and its handle's stop stops it everywhere.
      const stopping = (await onB.module('qa')).stop();
      await waitFor(async () => (await kv.get('create-race.qa'))?.operation === 'DEL', {
        timeout: 15_000,
        message: 'the spec removed',
      });
      proxy.release();
      await stopping;

      expect(await creating).toBeInstanceOf(ModuleNotFoundError);
      expect(running(a, 'create-race')).toBeUndefined();
      expect(running(b, 'create-race')).toBeUndefined();
      expect(await onA.modules()).toEqual([]);
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  });
});
