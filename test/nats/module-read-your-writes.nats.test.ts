import { headers } from 'nats';
import { describe, expect, it } from 'vitest';
import { CallTimeoutError, type RemoteModuleHandle, type RemoteSession } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { kvStream } from '../../src/nats/kv-bucket.js';
import { encodeJson } from '../../src/nats/wire.js';
import { startLaggingProxy, type LaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;
const summarize = { type: 'Predict', signature: 'document:string -> summary:string' } as const;
/** How late node B hears of module spec writes: far longer than a client takes from one reply to its next request. */
const LAG_MS = 300;
/** Stops that must reach node A first (B keeping its process) before a test is done. */
const RACES = 3;

/** What a test of {@link twoNodes} gets. */
interface Scene {
  readonly buckets: TestBuckets;
  readonly proxy: LaggingProxy;
  readonly b: TestNode;
  readonly nodes: readonly TestNode[];
  readonly session: RemoteSession;
}

/**
 * Node A on the server and node B behind a proxy that holds back what tells B of module spec writes (its watch of
 * the modules bucket, the control messages of stops) when the test asks it to; and a client's session `s1`.
 */
async function twoNodes(run: (scene: Scene) => Promise<void>): Promise<void> {
  const buckets = fx().buckets();
  const proxy = await startLaggingProxy(
    fx().server.url,
    (subject) => subject.startsWith(`$KV.${buckets.modulesBucket}.`) || subject.startsWith('tether.v1.control.'),
  );
  try {
    const a = await fx().node(buckets);
    const b = await fx().node(buckets, { servers: proxy.url });
    const session = await (await fx().client()).session('s1');
    await run({ buckets, proxy, b, nodes: [a, b], session });
  } finally {
    proxy.release();
    await fx().cleanup();
    await proxy.close();
  }
}

/** Executes `module` until node B runs a process of it; that process. */
function processOnB(b: TestNode, module: RemoteModuleHandle, inputs: Record<string, string>) {
  const name = moduleProcessName(module.sessionId, module.moduleId);
  return waitFor(
    async () => {
      await module.execute(inputs);
      return b.runtime.whereis(name);
    },
    { message: `node B runs ${module.moduleId}` },
  );
}

/** Runs `request` until node B serves it, checking every outcome on the way; B's outcome. */
async function untilServedByB<T>(scene: Scene, request: () => Promise<T>, check: (outcome: T) => void): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    expect(tries, 'requests until one lands on node B').toBeLessThan(40);
    const [outcome, node] = await servedBy(scene.nodes, request);
    check(outcome);
    if (node === scene.b) return outcome;
  }
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

describe('read-your-writes for module specs', () => {
  it('answers module_not_found, every time, on a node that has not heard of a stop the client saw acknowledged', async () => {
    await twoNodes(async (scene) => {
      const { b, proxy, session } = scene;
      proxy.lag(LAG_MS);
      let raced = 0;
      for (let trial = 0; raced < RACES; trial += 1) {
        expect(trial, `trials until ${RACES} stops reached node A first`).toBeLessThan(40);
        const module = await session.module(`m${trial}`, predict);
        // The handle that stops is done with its stop (it sends nothing more): another handle asks the nodes.
        const twin = await session.module(module.moduleId);
        const old = await processOnB(b, module, { question: 'warm up' });
        await module.stop();
        // Node B took the stop itself (and stopped its process): nothing is left to race on this one.
        if (b.runtime.whereis(moduleProcessName('s1', module.moduleId)) !== old) continue;
        raced += 1;
        await untilServedByB(
          scene,
          () => twin.execute({ question: 'after the stop' }).then(() => 'ran', codeOf),
          (outcome) => expect(outcome).toBe('module_not_found'),
        );
      }
    });
  }, 60_000);

  it("runs the new spec on a node that has not heard of the client's stop and creation again", async () => {
    await twoNodes(async (scene) => {
      const { b, proxy, session } = scene;
      proxy.lag(LAG_MS);
      let raced = 0;
      for (let trial = 0; raced < RACES; trial += 1) {
        expect(trial, `trials until ${RACES} re-creations left node B's old process running`).toBeLessThan(40);
        const first = await session.module(`m${trial}`, predict);
        const old = await processOnB(b, first, { question: 'warm up' });
        await first.stop();
        const second = await session.module(`m${trial}`, summarize);
        if (b.runtime.whereis(moduleProcessName('s1', second.moduleId)) !== old) continue;
        raced += 1;
        // The old spec would refuse these inputs: validation_failed, input field 'question' required.
        await untilServedByB(
          scene,
          () => second.execute({ document: 'the new spec' }),
          (result) => expect(Object.keys(result.output)).toEqual(['summary']),
        );
      }
    });
  }, 60_000);

  it('answers call_timeout naming the modules revision when the node does not apply it in time', async () => {
    await twoNodes(async (scene) => {
      const { buckets, proxy, session } = scene;
      const qa = await session.module('qa', predict);
      // The handle that stops is done with its stop (it sends nothing more): another handle asks the nodes.
      const twin = await session.module('qa');
      proxy.hold();
      await qa.stop();
      // The stop's delete marker is the bucket's last write: the revision the client now sends.
      const revision = (await (await nc().jetstreamManager()).streams.info(kvStream(buckets.modulesBucket))).state
        .last_seq;
      // A refused execution has nothing to cancel: the client sends no cancel (which would wait for the revision too).
      const cancels = nc().subscribe('tether.v1.session.s1.module.qa.cancel');
      await nc().flush();
      const timedOut = await untilServedByB(
        scene,
        () => twin.execute({ question: 'x' }).catch((error: unknown) => error),
        (error) => expect(codeOf(error)).toMatch(/^(module_not_found|call_timeout)$/),
      );
      expect(timedOut).toBeInstanceOf(CallTimeoutError);
      expect((timedOut as CallTimeoutError).message).toBe(
        `waiting for the node to apply modules revision ${revision} timed out after 2000 ms; nothing of it was applied`,
      );
      expect((timedOut as CallTimeoutError).details).toMatchObject({ minRevision: revision, outcome: 'not_applied' });
      await nc().flush();
      expect(cancels.getReceived(), 'cancels sent').toBe(0);
      cancels.unsubscribe();
      // Once it has heard, node B answers as node A does.
      proxy.release();
      await untilServedByB(
        scene,
        () => twin.execute({ question: 'x' }).then(() => 'ran', codeOf),
        (outcome) => expect(outcome).toBe('module_not_found'),
      );
    });
  }, 60_000);

  it("never runs a module after the client's stop resolved, when another node had removed it and the stop's node lags", async () => {
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(
      fx().server.url,
      (subject) => subject.startsWith(`$KV.${buckets.modulesBucket}.`) || subject.startsWith('tether.v1.control.'),
    );
    const live: TestNode[] = [];
    try {
      const client = await fx().client();
      for (let trial = 0; ; trial += 1) {
        expect(trial, "trials until node C takes the client's stop").toBeLessThan(40);
        for (const node of live.splice(0)) await node.stop();
        proxy.release();
        // Node A hears at once; B (which runs the process) and C (which takes the client's stop) hear late.
        const a = await fx().node(buckets);
        const b = await fx().node(buckets, { servers: proxy.url });
        const c = await fx().node(buckets, { servers: proxy.url });
        live.push(b, c);
        const module = await (await client.session('s1')).module(`m${trial}`, predict);
        // The handle that stops is done with its stop (it sends nothing more): another handle asks the nodes.
        const twin = await (await client.session('s1')).module(module.moduleId);
        const name = moduleProcessName('s1', module.moduleId);
        const old = await processOnB(b, module, { question: 'warm up' });
        proxy.hold();
        // Someone else removes it, through node A, which then leaves: B keeps its process, C has not heard either.
        await (await (await a.runtime.session('s1')).module(module.moduleId)).stop();
        await a.stop();
        const [, stoppedBy] = await servedBy([b, c], () => module.stop());
        if (stoppedBy !== c || b.runtime.whereis(name) !== old) continue;
        // The stop resolved: whichever node answers, the module must not run again (B must wait for the removal).
        for (let tries = 1; ; tries += 1) {
          expect(tries, 'requests until one lands on node B').toBeLessThan(40);
          const [outcome, node] = await servedBy([b, c], () =>
            twin.execute({ question: 'after my stop' }).then(() => 'ran', codeOf),
          );
          expect(outcome).toMatch(/^(module_not_found|call_timeout)$/);
          if (node === b) break;
        }
        return;
      }
    } finally {
      proxy.release();
      await fx().cleanup();
      await proxy.close();
    }
  }, 120_000);

  it('tells the client in replies to create and stop the modules-bucket revision they wrote', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await (await fx().client()).session('s1');
    const lastRevision = async () =>
      (await (await nc().jetstreamManager()).streams.info(kvStream(buckets.modulesBucket))).state.last_seq;
    const request = async (op: string, body: object) =>
      (await nc().request(`tether.v1.session.s1.module.qa.${op}`, encodeJson(body), { timeout: 5000 })).json<{
        modulesRevision?: number;
      }>();
    const created = await request('create', { spec: predict });
    expect(created.modulesRevision).toBe(await lastRevision());
    const stopped = await request('stop', {});
    expect(stopped.modulesRevision).toBe(await lastRevision());
    expect(stopped.modulesRevision).toBeGreaterThan(created.modulesRevision!);
  });

  it('refuses a Tether-Min-Modules-Revision that is not a whole number, and changes nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const session = await (await fx().client()).session('s1');
    const qa = await session.module('qa', predict);
    const cases: [string, object][] = [
      ['qa.execute', { inputs: { question: 'x' } }],
      ['qa.stop', {}],
      ['qb.create', { spec: predict }],
      ['list', {}],
    ];
    for (const [operation, body] of cases) {
      // What `Number()` would take is refused too: hex, binary, a fraction part, a sign, an exponent (spaces around a
      // value do not reach the node: NATS trims header values).
      for (const value of ['later', '-1', '1.5', '0x7fffffff', '0b11', '5.0', '-0', '+5', '1e9', '9007199254740992']) {
        const h = headers();
        h.set('Tether-Min-Modules-Revision', value);
        const subject = `tether.v1.session.s1.module.${operation}`;
        const reply = await nc().request(subject, encodeJson(body), { headers: h, timeout: 5000 });
        const label = `${operation} with ${value}`;
        expect(reply.headers?.get('Nats-Service-Error-Code'), label).toBe('400');
        expect(reply.json<{ error: { code: string; message: string } }>().error, label).toEqual({
          code: 'validation_failed',
          message: `header Tether-Min-Modules-Revision must be a whole number in decimal digits (0 to 9007199254740991), got '${value}'`,
          details: { constraint: 'Tether-Min-Modules-Revision' },
        });
      }
    }
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['qa']);
    expect(await qa.describe()).toMatchObject({ completed: 0, failed: 0 });
  });
});
