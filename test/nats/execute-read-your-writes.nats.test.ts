/**
 * Read-your-writes reaches a module's sync: an execution a client asks for right after its write runs with that
 * write's value on whichever node runs it, also on a node that hears the variables' changes late, and also when the
 * module stays on such a node and another node passes the execution on to it. And a read after an execution reflects
 * at least what the execution synced.
 */
import { describe, expect, it } from 'vitest';
import type { ModuleApi, ModuleTool, RemoteSession } from '../../src/index.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
/** How late node B hears of variable writes: far longer than a client takes from one reply to its next request. */
const LAG_MS = 300;
const spec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
} as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

/** What a test of {@link twoNodes} gets. */
interface Scene {
  readonly a: TestNode;
  readonly b: TestNode;
  readonly session: RemoteSession;
}

/**
 * Node A on the server and node B behind a proxy that delivers the changes of the variables bucket (its router's
 * watch) {@link LAG_MS} late; a client's session `s1` with a float `t` both nodes know of.
 */
async function twoNodes(run: (scene: Scene) => Promise<void>): Promise<void> {
  const buckets = fx().buckets();
  const proxy = await startLaggingProxy(fx().server.url, (subject) =>
    subject.startsWith(`$KV.${buckets.variablesBucket}.`),
  );
  try {
    const a = await fx().node(buckets);
    const b = await fx().node(buckets, { servers: proxy.url });
    const session = await (await fx().client()).session('s1');
    await session.defineVariable('t', 'float', 0);
    // Both views have the definition before B lags: B's embedded API creates a module bound to it.
    for (const node of [a, b]) {
      const view = await node.runtime.session('s1');
      await waitFor(() => view.hasVariable('t'), { message: 'the definition routed to every node' });
    }
    proxy.lag(LAG_MS);
    await run({ a, b, session });
  } finally {
    await fx().cleanup();
    await proxy.close();
  }
}

/**
 * Writes `t` and executes `module` through the client, round after round, until `enough` says the rounds covered
 * what the test needs and node B's own view was found behind a write at least once (60 rounds at most): each
 * execution must have synced the value just written. Returns how many times B's view was behind, so the test can
 * show the lag was real. Only a write node A served leaves B behind (B's own writes reach its view at once), and the
 * queue group may send several in a row to B: the rounds go on until one did not.
 */
async function writeThenExecute(
  scene: Scene,
  module: ModuleApi,
  enough: (executedBy: TestNode) => boolean,
): Promise<number> {
  const { a, b, session } = scene;
  const viewOfB = await b.runtime.session('s1');
  let staleOnB = 0;
  for (let round = 1, done = false; !done; round += 1) {
    expect(round, 'rounds before the executions covered the case').toBeLessThanOrEqual(60);
    const value = (round % 20) / 10;
    const written = await session.setVariable('t', value);
    if ((await viewOfB.getVariable('t')) !== value) staleOnB += 1;
    // The first node whose request count rose: the one the client's request reached, which may pass it on.
    const [result, executedBy] = await servedBy([a, b], () => module.execute({ question: `round ${round}` }));
    expect(result.provenance, `round ${round}`).toEqual({ t: written.version });
    expect(result.output.answer, `round ${round}`).toMatch(new RegExp(`temperature=${value}( |$)`));
    // Called every round: `enough` counts the executions it is shown.
    const covered = enough(executedBy);
    done = covered && staleOnB > 0;
  }
  return staleOnB;
}

describe('an execution right after a client write', () => {
  it('syncs the value written, also on a node that hears of the write late', async () => {
    await twoNodes(async (scene) => {
      const qa = await scene.session.module('qa', spec);
      let onB = 0;
      const staleOnB = await writeThenExecute(scene, qa, (node) => (onB += node === scene.b ? 1 : 0) >= 3);
      expect(staleOnB).toBeGreaterThan(0);
    });
  });

  it('syncs the value written on the node a module stays on, when another node passed the execution on to it', async () => {
    await twoNodes(async (scene) => {
      // Created through B, whose router lags: the module holds a function, so it runs only there.
      await (await scene.b.runtime.session('s1')).module('local', { ...spec, type: 'ReAct', tools: [echoTool] });
      const local = await scene.session.module('local');
      let passedOn = 0;
      const staleOnB = await writeThenExecute(scene, local, (node) => (passedOn += node === scene.a ? 1 : 0) >= 3);
      expect(staleOnB).toBeGreaterThan(0);
    });
  });

  it("reads back at least the version it synced, another's write, also through the node that hears late", async () => {
    await twoNodes(async ({ a, b, session }) => {
      // Created and written through A's embedded API: every execution runs on A (passed on when it reaches B), with
      // A's latest write, which only the execution's reply tells this client of.
      const onA = await a.runtime.session('s1');
      await onA.module('local', { ...spec, type: 'ReAct', tools: [echoTool] });
      const local = await session.module('local');
      const viewOfB = await b.runtime.session('s1');
      for (let round = 1, readOnB = false; !readOnB; round += 1) {
        expect(round, 'rounds before a read reached B').toBeLessThanOrEqual(30);
        const before = await onA.describeVariable('t');
        // B has every write but the next one, which it hears late.
        await waitFor(async () => (await viewOfB.describeVariable('t')).version === before.version);
        const written = await onA.setVariable('t', (round % 20) / 10);
        const result = await local.execute({ question: `round ${round}` });
        expect(result.provenance, `round ${round}`).toEqual({ t: written.version });
        const [read, readBy] = await servedBy([a, b], () => session.describeVariable('t'));
        expect(read.version, `round ${round}`).toBe(written.version);
        readOnB = readBy === b;
      }
    });
  });
});
