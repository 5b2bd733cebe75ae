import { afterEach, describe, expect, it } from 'vitest';
import { ModuleNotFoundError, type Runtime } from '../../src/index.js';
import { VariableAwarePredict, defaultModuleRegistry } from '../../src/modules/index.js';
import { Predict } from '../../src/modules/programs.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();

/**
 * The build of a `GatedPredict` module stops at its first binding until the test opens the gate: the window in
 * which a wake or a creation has read or claimed the spec but has no process yet.
 */
const gate = {
  entered: 0,
  open: Promise.resolve(),
  release: () => {},
  close() {
    this.open = new Promise<void>((resolve) => (this.release = resolve));
  },
};
class GatedPredict extends VariableAwarePredict {
  override async bindToVariable(...args: Parameters<VariableAwarePredict['bindToVariable']>): Promise<void> {
    gate.entered += 1;
    await gate.open;
    return super.bindToVariable(...args);
  }
}
defaultModuleRegistry.register('GatedPredict', Predict, GatedPredict);

const spec = { type: 'GatedPredict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

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
    const runtime = await fx().runtime(fx().buckets());
    const client = await fx().client({ timeoutMs: 30_000 });
    const session = await client.session('create-race');
    await session.defineVariable('t', 'float', 0.5);

    gate.close();
    const entered = gate.entered;
    const creating = session.module('qa', spec).then(
      () => 'created',
      (error: unknown) => error,
    );
    await waitFor(() => gate.entered > entered, { timeout: 15_000, message: 'the creation reached the build' });
    // The spec is claimed; the handle of a module by id sends the stop as any client would.
    const listed = await session.modules();
    expect(listed.map((m) => m.moduleId)).toEqual(['qa']);
    const stopping = listed[0]!.stop();
    try {
      await Promise.race([stopping, waitFor(async () => (await session.modules()).length === 0, { timeout: 15_000 })]);
    } finally {
      gate.release();
    }
    await stopping;

    expect(await creating).toBeInstanceOf(ModuleNotFoundError);
    expect(running(runtime, 'create-race')).toBeUndefined();
    expect(await session.modules()).toEqual([]);
  });
});
