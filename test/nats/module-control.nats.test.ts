import { describe, expect, it, onTestFinished } from 'vitest';
import type { ModuleHost } from '../../src/nats/module-host.js';
import { startModuleControl, type ModuleControl } from '../../src/nats/module-control.js';
import { executionReplyKey } from '../../src/nats/execution-replies.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { gate } from '../support/fake-module-bucket.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const plain = usePlainConnection(fx);

/** A node's module control whose host answers each cancel with what `cancelled` resolves to. */
async function control(cancelled: () => Promise<boolean>): Promise<ModuleControl> {
  const host = { cancel: cancelled, stopLocal: async () => false } as unknown as ModuleHost;
  const started = await startModuleControl(plain(), createSubjects(), host, {
    cancelWaitMs: 300,
    report: (error) => {
      throw error;
    },
  });
  onTestFinished(() => started.close());
  return started;
}

describe('startModuleControl', () => {
  // Found by mutation: a release that freed every hold of the id left the copy still on its way uncancellable.
  it('answers a cancel of an id sent twice while one copy is still on its way, and stops that copy at the door', async () => {
    const node = await control(async () => false);
    const key = executionReplyKey('s1', 'm', 'e1');
    node.hold(key);
    const releaseFirst = node.hold(key);
    releaseFirst();
    releaseFirst();

    expect(await node.cancel('s1', 'm', 'e1')).toBe(true);
    expect(node.cancelledEarly('s1', 'm', 'e1')).toBe(true);
  });

  it('answers nothing for a cancel of an id no longer held, and remembers it for a copy that comes later', async () => {
    const node = await control(async () => false);
    const release = node.hold(executionReplyKey('s1', 'm', 'e2'));
    release();

    expect(await node.cancel('s1', 'm', 'e2')).toBe(false);
    expect(node.cancelledEarly('s1', 'm', 'e2')).toBe(true);
  });

  // Found by mutation: without the other node's notice, a node whose search came back empty afterwards refused a
  // retry under the same id, which must run wherever it lands.
  it('forgets a cancel another node found, also when its own search comes back empty only after that', async () => {
    const found = await control(async () => true);
    const searching = gate();
    const slow = await control(async () => {
      await searching.opened;
      return false;
    });

    expect(await found.cancel('s1', 'm', 'e3')).toBe(true);
    // The found notice went out before the answer came back; a round trip later the slow node has heard it.
    await plain().flush();
    searching.open();
    await new Promise((resolve) => setImmediate(resolve));

    expect(slow.cancelledEarly('s1', 'm', 'e3')).toBe(false);
    expect(found.cancelledEarly('s1', 'm', 'e3')).toBe(false);
  });
});
