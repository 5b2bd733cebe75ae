import { describe, expect, it } from 'vitest';
import { ModuleNotFoundError, createEchoModel, type ModuleEvent, type Runtime } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { collectGarbage } from '../support/collect-garbage.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/** A node whose sessions and modules hibernate after 40 ms of nothing to do. */
function sleepyNode(buckets = fx().buckets()): Promise<Runtime> {
  return fx().runtime(buckets, { llm: createEchoModel(), hibernateAfterMs: 40 });
}

/** Waits until `node` has no process for module `qa` of `sessionId` any more. */
function untilHibernated(node: Runtime, sessionId: string): Promise<unknown> {
  const name = moduleProcessName(sessionId, 'qa');
  return waitFor(() => node.whereis(name) === undefined, { message: 'the module hibernates on the node' });
}

describe('a hibernated module on a node', () => {
  it('lets its process go when idle, and serves the module again with the values set meanwhile', async () => {
    const node = await sleepyNode();
    const session = await (await fx().client()).session('n1');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    // The actor of the node's process, watched without keeping it alive. Looked up right after an execution, which
    // keeps it awake; on a loaded machine it may still fall asleep before the look, and the next execution wakes it.
    let executions = 0;
    const held = await waitFor(async () => {
      await qa.execute({ question: 'first?' });
      executions += 1;
      const process = node.whereis(moduleProcessName('n1', 'qa'));
      return process && new WeakRef(process.actor);
    });

    await untilHibernated(node, 'n1');
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(held.deref()).toBeUndefined();

    await session.setVariable('t', 0.9);
    const result = await qa.execute({ question: 'second?' });
    expect(result.provenance).toEqual({ t: 2 });
    // The offline model repeats what it was sent: the value set while the module slept reached the LLM call.
    expect(result.output.answer).toContain('temperature=0.9');
    expect(await qa.describe()).toMatchObject({ completed: executions + 1, failed: 0 });
  });

  it('is described without being woken by a node that never ran it, with its type from the spec', async () => {
    const buckets = fx().buckets();
    const a = await sleepyNode(buckets);
    const onA = await a.session('d1');
    await onA.defineVariable('t', 'float', 0.5);
    await onA.defineVariable('kind', 'module', 'ChainOfThought');
    const { signature, bindings } = predict;
    await (await onA.module('qa', { typeVariable: 'kind', signature, bindings })).execute({ question: 'q' });
    await untilHibernated(a, 'd1');
    // A second node, which has no process of the module: a remote handle (its lookup and its listeners describe
    // the module) and repeated describes reach either node.
    const b = await sleepyNode(buckets);
    const remote = await (await (await fx().client()).session('d1')).module('qa');
    const off = remote.onState(() => {});
    const described = await Promise.all(Array.from({ length: 8 }, () => remote.describe()));
    off();
    expect(b.whereis(moduleProcessName('d1', 'qa'))).toBeUndefined();
    expect(a.whereis(moduleProcessName('d1', 'qa'))).toBeUndefined();
    for (const description of described)
      expect(description).toMatchObject({
        moduleId: 'qa',
        moduleType: 'ChainOfThought',
        signature: predict.signature,
        state: 'idle',
        queued: 0,
      });
  });

  it('publishes the woken process’s events on the module’s events subject, once each', async () => {
    const node = await sleepyNode();
    const session = await (await fx().client()).session('n2');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    await qa.execute({ question: 'first?' });
    await untilHibernated(node, 'n2');
    const events: ModuleEvent[] = [];
    const subscription = nc().subscribe('tether.v1.events.n2.module.qa', {
      callback: (_error, msg) => events.push(msg.json()),
    });
    await nc().flush();

    const { executionId } = await qa.execute({ question: 'second?' });
    // A node publishes an execution's result before its return to idle: once that is heard, so is any result.
    await waitFor(
      () => events.at(-1)?.type === 'module.state' && (events.at(-1) as { state: string }).state === 'idle',
      {
        message: 'the return to idle',
      },
    );
    subscription.unsubscribe();
    expect(events.flatMap((event) => (event.type === 'module.result' ? [event.result.executionId] : []))).toEqual([
      executionId,
    ]);
    expect(events.filter((event) => event.type === 'module.state').map((event) => event.state)).toEqual([
      'syncing',
      'executing',
      'idle',
    ]);
  });

  it('stays stopped after a stop over the wire while it hibernates', async () => {
    const node = await sleepyNode();
    const session = await (await fx().client()).session('n3');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    await qa.execute({ question: 'first?' });
    // The node's own handle of the same module, as an embedded user holds it.
    const local = await (await node.session('n3')).module('qa');
    await untilHibernated(node, 'n3');
    expect(local.alive).toBe(true);

    await qa.stop();
    expect(local.alive).toBe(false);
    await expect(local.execute({ question: 'again?' })).rejects.toBeInstanceOf(ModuleNotFoundError);
    await expect(qa.execute({ question: 'again?' })).rejects.toBeInstanceOf(ModuleNotFoundError);
    expect(node.whereis(moduleProcessName('n3', 'qa'))).toBeUndefined();
  });

  it('wakes the new spec, not its hibernating process of the old one, once another node replaced the module', async () => {
    const buckets = fx().buckets();
    const a = await sleepyNode(buckets);
    await fx().runtime(buckets, { llm: createEchoModel() });
    const session = await (await fx().client()).session('n4');
    await session.defineVariable('t', 'float', 0.5);
    const qa = await session.module('qa', predict);
    const onA = await a.session('n4');
    const old = await onA.module('qa');
    expect((await old.execute({ question: 'first?' })).moduleType).toBe('Predict');
    await untilHibernated(a, 'n4');

    await qa.stop();
    await session.module('qa', { type: 'ChainOfThought', signature: 'question:string -> reply:string' });
    await waitFor(
      async () => (await (await onA.module('qa')).execute({ question: 'x' })).moduleType === 'ChainOfThought',
      {
        message: 'node A runs the new spec',
      },
    );
    await expect(old.execute({ question: 'old?' })).rejects.toBeInstanceOf(ModuleNotFoundError);
  });
});
