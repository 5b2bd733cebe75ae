import { describe, expect, it } from 'vitest';
import { ModuleNotFoundError } from '../../src/errors.js';
import type { ModuleControl } from '../../src/nats/module-control.js';
import type { ModuleHost, StopScope } from '../../src/nats/module-host.js';
import type { ModuleSpecs } from '../../src/nats/module-specs.js';
import { stopModule, type ModuleStopDeps } from '../../src/nats/module-stop.js';
import type { NodePings } from '../../src/nats/node-pings.js';
import { FakeModuleBucket } from '../support/fake-module-bucket.js';

const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** A stop's node on `bucket`, recording what it asked its host and the other nodes to stop. */
function stopDeps(bucket: FakeModuleBucket) {
  const stoppedHere: (StopScope | undefined)[] = [];
  const toldOthers: (number | undefined)[] = [];
  const host: Pick<ModuleHost, 'stopLocal'> = {
    stopLocal: async (_sessionId, _moduleId, scope) => (stoppedHere.push(scope), true),
  };
  const control: Pick<ModuleControl, 'stop'> = {
    stop: async (_sessionId, _moduleId, revision) => (toldOthers.push(revision), false),
  };
  const nodes: NodePings = { ping: async () => new Map() };
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
});
