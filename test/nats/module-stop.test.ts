import { describe, expect, it } from 'vitest';
import { CallTimeoutError, ModuleNotFoundError } from '../../src/errors.js';
import type { ModuleControl } from '../../src/nats/module-control.js';
import type { ModuleHost, StopScope } from '../../src/nats/module-host.js';
import type { ModuleSpecs } from '../../src/nats/module-specs.js';
import { stopModule, type ModuleStopDeps } from '../../src/nats/module-stop.js';
import type { NodePings } from '../../src/nats/node-pings.js';
import { FakeModuleBucket } from '../support/fake-module-bucket.js';

const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/**
 * A stop's node on `bucket`, recording what it asked its host and the other nodes to stop. `hasHere`: whether this
 * node has a process to stop; a claimed module's node is `answering` pings, yet never answers the stop itself.
 */
function stopDeps(bucket: FakeModuleBucket, { hasHere = true, answering = [] as string[] } = {}) {
  const stoppedHere: (StopScope | undefined)[] = [];
  const toldOthers: (number | undefined)[] = [];
  const host: Pick<ModuleHost, 'stopLocal'> = {
    stopLocal: async (_sessionId, _moduleId, scope) => (stoppedHere.push(scope), hasHere),
  };
  const control: Pick<ModuleControl, 'stop' | 'stopClaimed' | 'stopWaitMs'> = {
    stop: async (_sessionId, _moduleId, revision) => (toldOthers.push(revision), false),
    stopClaimed: async () => undefined,
    stopWaitMs: 2_000,
  };
  const nodes: NodePings = {
    ping: async (ids) => new Map([...ids].map((id) => [id, answering.includes(id) ? 'answered' : 'gone'])),
  };
  const deps = {
    host: host as ModuleHost,
    specs: bucket as unknown as ModuleSpecs,
    control: control as ModuleControl,
    nodes,
  } satisfies ModuleStopDeps;
  return { deps, stoppedHere, toldOthers };
}

describe('stopModule', () => {
  it('removes the spec it found, then stops the processes of that spec here and on the other nodes', async () => {
    const bucket = new FakeModuleBucket();
    const revision = await bucket.claim('s1', 'm', spec);
    const { deps, stoppedHere, toldOthers } = stopDeps(bucket);

    await stopModule(deps, 's1', 'm');

    expect(bucket.holder('s1', 'm')).toBeUndefined();
    expect(stoppedHere).toEqual([{ spec: revision }]);
    expect(toldOthers).toEqual([revision]);
  });

  it('fails with module_not_found and stops nothing when the spec it found was replaced before it removed it', async () => {
    const bucket = new FakeModuleBucket();
    const first = await bucket.claim('s1', 'm', spec);
    // A concurrent stop removed the spec, and a creation wrote the id again, between this stop's read and its removal.
    bucket.beforeRelease = async () => {
      bucket.beforeRelease = undefined;
      await bucket.release('s1', 'm', first);
      await bucket.claim('s1', 'm', spec);
    };
    const { deps, stoppedHere, toldOthers } = stopDeps(bucket);

    const error = await stopModule(deps, 's1', 'm').catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(ModuleNotFoundError);
    expect(error).toMatchObject({ code: 'module_not_found', details: { sessionId: 's1', moduleId: 'm' } });
    // The module created again keeps its spec and its processes.
    expect(bucket.holder('s1', 'm')).toBe('spec');
    expect(stoppedHere).toEqual([]);
    expect(toldOthers).toEqual([]);
  });

  it('fails with module_not_found naming the module when no spec, claim or process of it is anywhere', async () => {
    const bucket = new FakeModuleBucket();
    const { deps, stoppedHere, toldOthers } = stopDeps(bucket, { hasHere: false });

    const error = await stopModule(deps, 's1', 'ghost').catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(ModuleNotFoundError);
    expect(error).toMatchObject({
      message: "module 'ghost' not found in session 's1'",
      details: { sessionId: 's1', moduleId: 'ghost' },
    });
    // Both were asked: this node first, then the others.
    expect(stoppedHere).toEqual([undefined]);
    expect(toldOthers).toEqual([undefined]);
  });

  it("fails with call_timeout naming the module and node when the claim's node lives but does not stop it", async () => {
    const bucket = new FakeModuleBucket();
    const claim = bucket.put('s1', 'm', 'node-b');
    const { deps } = stopDeps(bucket, { hasHere: false, answering: ['node-b'] });

    const error = await stopModule(deps, 's1', 'm').catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({
      message: "call to 'stop of module m in session s1 on node node-b' timed out after 2000 ms",
      details: { sessionId: 's1', moduleId: 'm', node: 'node-b', claimRevision: claim, timeoutMs: 2000 },
    });
    // Its node may still have it: the claim stays, so that no other node takes the module over meanwhile.
    expect(bucket.holder('s1', 'm')).toBe('node-b');
  });

  it('releases the claim of a node that is gone, and stops nothing more', async () => {
    const bucket = new FakeModuleBucket();
    bucket.put('s1', 'm', 'node-b');
    const { deps } = stopDeps(bucket, { hasHere: false });

    await stopModule(deps, 's1', 'm');

    expect(bucket.holder('s1', 'm')).toBeUndefined();
  });
});
