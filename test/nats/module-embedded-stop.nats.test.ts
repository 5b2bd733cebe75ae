import { describe, expect, it } from 'vitest';
import { ModuleNotFoundError, createEchoModel, type Runtime } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const chain = { type: 'ChainOfThought', signature: 'question:string -> reply:string' } as const;

/** Two nodes on fresh buckets, and a client. */
async function twoNodes() {
  const buckets = fx().buckets();
  const a = await fx().runtime(buckets, { llm: createEchoModel() });
  const b = await fx().runtime(buckets, { llm: createEchoModel() });
  return { a, b, client: await fx().client() };
}

const runs = (runtime: Runtime, moduleId: string) => runtime.whereis(moduleProcessName('s1', moduleId)) !== undefined;

describe('embedded module stop on a NATS node', () => {
  it('stops the module on every node: clients no longer list it or run it', async () => {
    const { a, b, client } = await twoNodes();
    const qa = await (await a.session('s1')).module('qa', predict);
    const remote = await (await client.session('s1')).module('qa');
    // Executions go on until one landed on node B, which then runs a process of its own.
    await waitFor(
      async () => {
        await remote.execute({ question: 'x' });
        return runs(b, 'qa');
      },
      { message: 'node B runs qa' },
    );

    await qa.stop();

    expect(qa.alive).toBe(false);
    expect(await (await client.session('s1')).modules()).toEqual([]);
    await waitFor(() => !runs(b, 'qa'), { message: "node B's process stops" });
    for (let i = 0; i < 6; i++)
      await expect(remote.execute({ question: 'y' })).rejects.toBeInstanceOf(ModuleNotFoundError);
  });

  it('frees the id: the same session creates it again with another spec, which is the one that runs', async () => {
    const { a, client } = await twoNodes();
    const session = await a.session('s1');
    await (await session.module('qa', predict)).stop();

    const again = await session.module('qa', chain);
    expect((await again.execute({ question: 'x' })).moduleType).toBe('ChainOfThought');
    expect((await session.module('qa')).moduleId).toBe('qa');
    const remote = await (await client.session('s1')).module('qa');
    for (let i = 0; i < 6; i++) expect((await remote.execute({ question: 'y' })).moduleType).toBe('ChainOfThought');
  });

  it('leaves the specs to the other nodes when a session or a node stops', async () => {
    const { a, b, client } = await twoNodes();
    const session = await a.session('s1');
    const qa = await session.module('qa', predict);
    await session.module('qb', predict);
    const remote = await client.session('s1');

    await session.stop();
    expect(runs(a, 'qa')).toBe(false);
    // A handle of the stopped session gave its module up: its stop removes nothing, as a remote handle's would not.
    await expect(qa.stop()).rejects.toMatchObject({ code: 'session_stopped' });
    expect((await remote.modules()).map((listed) => listed.moduleId)).toEqual(['qa', 'qb']);
    await a.stop();
    expect((await remote.modules()).map((listed) => listed.moduleId)).toEqual(['qa', 'qb']);
    expect((await (await remote.module('qb')).execute({ question: 'x' })).moduleType).toBe('Predict');
    expect(runs(b, 'qb')).toBe(true);
  });

  it('stops the process here even when the modules bucket cannot be reached, and says why', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { llm: createEchoModel() });
    const qa = await (await node.session('s1')).module('qa', predict);
    // The bucket gone under the node, as an operator's mistake or a lost JetStream would leave it.
    await (await nc().jetstreamManager()).streams.delete(`KV_${buckets.modulesBucket}`);

    // No stream takes the bucket's subjects any more (no responders), and the stream is not found: not an outage to
    // wait out (that would be store_unavailable), the bucket's own failure.
    await expect(qa.stop()).rejects.toMatchObject({
      code: 'internal_error',
      message: expect.stringContaining("release of module 'qa' in session 's1'"),
    });
    expect(qa.alive).toBe(false);
    expect(runs(node, 'qa')).toBe(false);
  });
});
