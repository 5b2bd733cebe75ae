import { afterEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, StoreUnavailableError, createEchoModel, type ModuleTool } from '../../src/index.js';
import { ModuleDirectory, type ModuleSharing } from '../../src/node/module-directory.js';
import { ProcessRuntime } from '../../src/runtime/process-runtime.js';
import {
  FakeForwards,
  FakeModuleBucket,
  fakeClaimsNode,
  gate,
  type FakeClaimsNode,
} from '../support/fake-module-bucket.js';
import { FakeSession } from '../support/fake-session.js';

const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function: the module stays on the node creating it, which claims its id. */
const localSpec = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [echoTool] } as const;

/** Lets every callback queued so far run (timers of 0 ms included), without waiting for anything in particular. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** How a creation ended: `created`, or the code it was refused with. */
const outcome = (creation: Promise<unknown>): Promise<unknown> =>
  creation.then(
    () => 'created',
    (error: { code?: string }) => error.code,
  );

describe('createModuleClaims', () => {
  it("gives the id to a creation that took it over between another's two writes, and refuses the other", async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const [a, b] = [fakeClaimsNode('A', bucket, forwards), fakeClaimsNode('B', bucket, forwards)];
    // Node A has written its claim once and does not answer for the module yet: node B finds nobody.
    const aServes = gate();
    const aWrote = gate();
    forwards.beforeServe = async (node) => {
      if (node !== 'A') return;
      aWrote.open();
      await aServes.opened;
    };
    const onA = outcome(a.claims.local('s1', 'm'));
    await aWrote.opened;

    const onB = await outcome(b.claims.local('s1', 'm'));
    aServes.open();

    expect([onB, await onA]).toEqual(['created', 'already_exists']);
    expect(bucket.holder('s1', 'm')).toBe('B');
    // The loser no longer answers for the module: requests for it reach node B alone.
    expect(forwards.serves('A', 's1', 'm')).toBe(false);
    expect(forwards.serves('B', 's1', 'm')).toBe(true);
  });

  it('lets the first of two takeovers of a stale claim win, the other giving up without asking again', async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const [b, c] = [fakeClaimsNode('B', bucket, forwards), fakeClaimsNode('C', bucket, forwards)];
    bucket.put('s1', 'm', 'Z'); // node Z died holding it
    // Both find the claim stale before either takes it over; node C's takeover is written once node B's has landed,
    // and node B does not answer for the module yet (it is between its two writes) when node C's write fails.
    const cFoundStale = gate();
    const bLanded = gate();
    const bServes = gate();
    bucket.beforeClaim = async ({ node, replacing }) => {
      if (replacing === undefined) return;
      if (node === 'B') await cFoundStale.opened;
      if (node !== 'C') return;
      cFoundStale.open();
      await bLanded.opened;
    };
    forwards.beforeServe = async (node) => {
      if (node !== 'B') return;
      bLanded.open();
      await bServes.opened;
    };
    const onB = outcome(b.claims.local('s1', 'm'));
    const onC = outcome(c.claims.local('s1', 'm'));

    expect(await onC).toBe('already_exists');
    bServes.open();
    expect(await onB).toBe('created');
    expect(bucket.holder('s1', 'm')).toBe('B');
    // Once each: the question is not asked again of a claim written since this creation found it stale.
    expect(forwards.asked).toEqual(['s1.m', 's1.m']);
  });

  it("waits for this node's release of the id under way, then claims it again", async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const a = fakeClaimsNode('A', bucket, forwards);
    const first = await a.claims.local('s1', 'm');
    // The module ended: its release is under way, its subscription still draining, its claim still there.
    const released = gate();
    bucket.beforeRelease = () => released.opened;
    forwards.beforeUnserve = () => released.opened;
    const releasing = first.local.release();

    const again = outcome(a.claims.local('s1', 'm'));
    await turn();
    released.open();

    expect(await again).toBe('created');
    await releasing;
    expect(bucket.holder('s1', 'm')).toBe('A');
    expect(await bucket.holds('s1', 'm', first.revision)).toBe(false);
  });

  it('refuses a creation at once while the connection is down, with store_unavailable naming the module', async () => {
    const bucket = new FakeModuleBucket();
    const a = fakeClaimsNode('A', bucket, new FakeForwards());
    a.connected = false;

    const refused = a.claims.local('s1', 'during');

    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringContaining("create of module 'during' in session 's1'"),
      details: { sessionId: 's1', moduleId: 'during', bucket: 'fake_modules' },
    });
    await expect(a.claims.shared('s1', 'spec', { type: 'Predict', signature: 'q -> a' })).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    expect(bucket.holder('s1', 'during')).toBeUndefined();
  });

  it('keeps the claim of a module that ended while the connection was down, and gives it back once it is up', async () => {
    const bucket = new FakeModuleBucket();
    const a = fakeClaimsNode('A', bucket, new FakeForwards());
    const claim = await a.claims.local('s1', 'm');
    a.connected = false;
    // A write now would hang until it timed out: none is tried, and the node's stop does not wait for one.
    bucket.beforeRelease = () => new Promise<void>(() => {});

    await claim.local.release();
    await a.claims.settled();

    expect(bucket.releases).toBe(0);
    expect(bucket.holder('s1', 'm')).toBe('A');
    bucket.beforeRelease = undefined;
    a.connected = true;
    a.claims.retryReleases();
    await a.claims.settled();
    expect(bucket.holder('s1', 'm')).toBeUndefined();
  });

  it('takes over a claim no node answers for, and refuses one a node answers for', async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const b = fakeClaimsNode('B', bucket, forwards);
    bucket.put('s1', 'dead', 'Z');
    await forwards.serve('Y', 's1', 'alive');
    bucket.put('s1', 'alive', 'Y');

    expect(await outcome(b.claims.local('s1', 'dead'))).toBe('created');
    await expect(b.claims.local('s1', 'alive')).rejects.toMatchObject({
      code: 'already_exists',
      details: { node: 'Y' },
    });
    expect([bucket.holder('s1', 'dead'), bucket.holder('s1', 'alive')]).toEqual(['B', 'Y']);
  });

  it('tells an id taken by a spec or by a claim a node answers for, and free under a claim no node answers for', async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const b = fakeClaimsNode('B', bucket, forwards);
    await bucket.claim('s1', 'shared', { type: 'Predict', signature: 'question:string -> answer:string' });
    await forwards.serve('Y', 's1', 'alive');
    bucket.put('s1', 'alive', 'Y');
    bucket.put('s1', 'dead', 'Z');

    expect(await b.claims.taken('s1', 'shared')).toBe(true);
    expect(await b.claims.taken('s1', 'alive')).toBe(true);
    // Node Z died holding it: a creation would take it over, so a refused one is told its own refusal.
    expect(await b.claims.taken('s1', 'dead')).toBe(false);
    expect(await b.claims.taken('s1', 'never')).toBe(false);
    // Only the claims were asked about, and reading changed nothing.
    expect(forwards.asked).toEqual(['s1.alive', 's1.dead']);
    expect([bucket.holder('s1', 'alive'), bucket.holder('s1', 'dead')]).toEqual(['Y', 'Z']);
  });

  it('settles at once while the connection is down, not waiting for a release under way', async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const a = fakeClaimsNode('A', bucket, forwards);
    const claim = await a.claims.local('s1', 'm');
    const held = gate();
    bucket.beforeRelease = () => held.opened;
    const releasing = claim.local.release();
    a.connected = false;

    await a.claims.settled();

    // Still under way: the node closes its connection without it, and the claim is taken over later.
    expect(bucket.holder('s1', 'm')).toBe('A');
    held.open();
    await releasing;
    expect(bucket.holder('s1', 'm')).toBeUndefined();
  });
});

describe('module directory with claims', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  /** A node's module directory sharing through the fake claims of `node`. */
  function directoryOn(node: FakeClaimsNode): ModuleDirectory {
    const processes = new ProcessRuntime({ onError: () => {} });
    const directory = new ModuleDirectory(
      { processes, executionTimeoutMs: 5_000, hibernateAfterMs: 60_000, report: () => {} },
      createEchoModel(),
    );
    const sharing: ModuleSharing = {
      async claimModule(sessionId, moduleId) {
        const claim = await node.claims.local(sessionId, moduleId);
        return { ...claim, release: claim.local.release };
      },
      moduleTaken: (sessionId, moduleId) => node.claims.taken(sessionId, moduleId),
      removeModule: async () => true,
      loadModule: async () => undefined,
      publishModuleEvents: () => () => {},
    };
    directory.share(sharing);
    stops.push(async () => {
      directory.close();
      await processes.stopAll();
    });
    return directory;
  }

  it("resolves a handle's stop once the id is given back: another node can claim it at once", async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const a = fakeClaimsNode('A', bucket, forwards);
    const handle = await directoryOn(a).create(new FakeSession('s1'), 'm', localSpec);
    // The bucket takes a moment to answer, as a KV write does.
    bucket.beforeRelease = turn;

    await handle.stop();

    expect(bucket.holder('s1', 'm')).toBeUndefined();
    expect(await outcome(fakeClaimsNode('B', bucket, forwards).claims.local('s1', 'm'))).toBe('created');
    expect(forwards.asked).toEqual([]);
  });

  it('stops a module whose claim was written over before it claims the id again, so that it can take it over', async () => {
    const bucket = new FakeModuleBucket();
    const forwards = new FakeForwards();
    const a = fakeClaimsNode('A', bucket, forwards);
    const directory = directoryOn(a);
    const session = new FakeSession('s1');
    const first = await directory.create(session, 'm', localSpec);
    // Node Z took the id over while node A was cut off, and died since; node A's watch sees Z's claim.
    const revision = bucket.put('s1', 'm', 'Z');
    // Letting the forward subscription go takes a round trip: asked meanwhile, node A would answer itself.
    forwards.beforeUnserve = turn;
    directory.specWritten('s1', 'm', revision);

    const again = await directory.create(session, 'm', localSpec);

    expect(first.alive).toBe(false);
    expect(again.alive).toBe(true);
    expect(bucket.holder('s1', 'm')).toBe('A');
    expect(forwards.serves('A', 's1', 'm')).toBe(true);
    await expect(fakeClaimsNode('B', bucket, forwards).claims.local('s1', 'm')).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
  });
});
