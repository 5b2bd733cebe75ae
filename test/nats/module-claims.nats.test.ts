import { connect, headers } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AlreadyExistsError,
  BridgeError,
  CallTimeoutError,
  InternalError,
  createEchoModel,
  type ModuleTool,
  type Session,
} from '../../src/index.js';
import { FORWARDED_DESCRIBE_WAIT_MS, createModuleForward } from '../../src/nats/module-forward.js';
import { openModuleSpecs } from '../../src/nats/module-specs.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { startScript } from '../support/cli-process.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import type { TestNode } from '../support/tether-node.js';
import { noResponders } from '../support/no-responders.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function cannot be written to the modules bucket: the module stays on the node creating it. */
const localSpec = { ...predict, type: 'ReAct', tools: [echoTool] };

type Listed = { moduleId: string; spec?: unknown; node?: string };

/** Two nodes on fresh buckets, each with session `s1` open through its embedded API. */
async function twoNodes(): Promise<{ a: TestNode; b: TestNode; onA: Session; onB: Session; buckets: TestBuckets }> {
  const buckets = fx().buckets();
  const a = await fx().node(buckets, { llm: createEchoModel() });
  const b = await fx().node(buckets, { llm: createEchoModel() });
  return { a, b, onA: await a.runtime.session('s1'), onB: await b.runtime.session('s1'), buckets };
}

/** `module list` of session `s1` as any NATS client reads it. */
async function listed(): Promise<Listed[]> {
  const reply = await nc().request('tether.v1.session.s1.module.list', enc.encode('{}'), { timeout: 10_000 });
  return reply.json<{ result: Listed[] }>().result;
}

/** The code a rejected creation failed with. */
const refusal = (created: Promise<unknown>): Promise<unknown> =>
  created.then(
    () => 'created',
    (error: { code?: string }) => error.code,
  );

describe('module ids claimed across nodes', () => {
  it('refuses an id a module staying on another node holds, with already_exists, and runs every request there', async () => {
    const { a, b, onA, onB } = await twoNodes();
    const owned = await onA.module('local', localSpec);

    await expect(onB.module('local', localSpec)).rejects.toMatchObject({
      code: 'already_exists',
      details: { sessionId: 's1', id: 'local', node: a.serviceId },
    });
    // A spec any node could wake is refused alike: one namespace for both kinds.
    await expect(onB.module('local', predict)).rejects.toBeInstanceOf(AlreadyExistsError);
    const session = await (await fx().client()).session('s1');
    // Ten tries: with two nodes in the queue group, both get to refuse it.
    for (let i = 0; i < 10; i++)
      await expect(session.module('local', predict)).rejects.toBeInstanceOf(AlreadyExistsError);

    // Nothing changed: no module on node B, the claim still node A's, and every execution runs on node A's module.
    expect(b.runtime.whereis(moduleProcessName('s1', 'local'))).toBeUndefined();
    expect(await onB.modules()).toEqual([]);
    expect(await listed()).toEqual([{ moduleId: 'local', node: a.serviceId }]);
    const local = await session.module('local');
    for (let i = 0; i < 12; i++) await local.execute({ question: `call ${i}` });
    expect(await owned.describe()).toMatchObject({ completed: 12, failed: 0 });
    expect((await session.modules()).map((handle) => handle.moduleId)).toEqual(['local']);
  });

  it('refuses a shared spec an id another node created, as embedded: with no store conflict as its cause', async () => {
    const { onA, onB } = await twoNodes();
    await onB.module('qa', predict);

    const refused = await onA.module('qa', { ...predict, type: 'ChainOfThought' }).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(AlreadyExistsError);
    expect(refused).toMatchObject({ code: 'already_exists', details: { sessionId: 's1' } });
    expect((refused as Error).cause).toBeUndefined();
    expect(await listed()).toEqual([{ moduleId: 'qa', spec: predict }]);
  });

  it('refuses a module staying on its node an id whose spec is in the bucket, leaving that module as it was', async () => {
    const { onA, onB } = await twoNodes();
    // Created through node B, so node A has no process of it: only the bucket can tell node A the id is taken.
    await onB.module('qa', { ...predict, type: 'ChainOfThought' });

    await expect(onA.module('qa', localSpec)).rejects.toMatchObject({ code: 'already_exists' });

    expect(await listed()).toEqual([{ moduleId: 'qa', spec: { ...predict, type: 'ChainOfThought' } }]);
    const qa = await (await (await fx().client()).session('s1')).module('qa');
    for (let i = 0; i < 6; i++)
      expect((await qa.execute({ question: 'still you?' })).moduleType).toBe('ChainOfThought');
  });

  it('gives an id to exactly one of two nodes creating it at once', async () => {
    const { a, b, onA, onB } = await twoNodes();
    const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);

    const outcomes = await Promise.all(
      ids.map((id) => Promise.all([refusal(onA.module(id, localSpec)), refusal(onB.module(id, localSpec))])),
    );

    for (const pair of outcomes) expect([...pair].sort()).toEqual(['already_exists', 'created']);
    const owners = outcomes.map(([onNodeA]) => (onNodeA === 'created' ? a : b));
    expect(await listed()).toEqual(ids.map((moduleId, i) => ({ moduleId, node: owners[i]!.serviceId })));
    // Each id's requests reach the one module that has it, whichever node they arrive at.
    const session = await (await fx().client()).session('s1');
    for (const [i, id] of ids.entries()) {
      for (let n = 0; n < 4; n++) await (await session.module(id)).execute({ question: `call ${n}` });
      const owner = owners[i] === a ? onA : onB;
      expect(await (await owner.module(id)).describe()).toMatchObject({ completed: 4 });
    }
  });

  it('frees the id on a stop (a handle, the wire, its session, its node), for a module on another node', async () => {
    const { a, onA, onB } = await twoNodes();
    const session = await (await fx().client()).session('s1');

    const first = await onA.module('local', localSpec);
    await expect(onB.module('local', localSpec)).rejects.toMatchObject({ code: 'already_exists' });
    await first.stop();
    const second = await onB.module('local', localSpec);
    expect(second.alive).toBe(true);
    await expect(onA.module('local', localSpec)).rejects.toMatchObject({ code: 'already_exists' });

    // Through the wire, from whichever node the stop reaches: the owner stops it and gives the id back first.
    let last = second;
    for (let i = 0; i < 4; i++) {
      await (await session.module('local')).stop();
      await waitFor(() => !last.alive, { message: 'the module stopped on its node' });
      const [onOwner, onOther] = i % 2 === 0 ? [onA, onB] : [onB, onA];
      last = await onOwner.module('local', localSpec);
      await expect(onOther.module('local', localSpec)).rejects.toMatchObject({ code: 'already_exists' });
    }
    // Now on node B: its session there stops, and the module with it (a session's stop does not wait for its
    // modules to end).
    await onB.stop();
    await waitFor(() => !last.alive, { message: 'the module stopped with its session' });
    await onA.module('local', localSpec);
    expect(await listed()).toEqual([{ moduleId: 'local', node: a.serviceId }]);

    // Node A stops, and the module with it: the id is free before its stop resolves.
    await a.stop();
    expect(await listed()).toEqual([]);
  });

  it('takes over the id of a node killed without giving it back, and runs every request on the new module', async () => {
    const buckets = fx().buckets();
    // Started first: the fixture tells a new node by the one service instance it has not seen, and the owner's is not
    // one it sees start.
    const b = await fx().node(buckets, { llm: createEchoModel() });
    const owner = startScript('test/support/local-module-node.ts', [
      fx().server.url,
      `${buckets.variablesBucket},${buckets.sessionsBucket},${buckets.modulesBucket}`,
      's1',
      'local',
    ]);
    onTestFinished(async () => {
      if (owner.child.exitCode === null && owner.child.signalCode === null) owner.child.kill('SIGKILL');
      await owner.exited;
    });
    await owner.until('stdout', /module ready/);
    const onB = await b.runtime.session('s1');
    const [{ node: ownerId }] = (await listed()) as [Listed];
    expect(ownerId).toEqual(expect.any(String));
    // Alive, its node answers for the module: the id is taken.
    await expect(onB.module('local', localSpec)).rejects.toMatchObject({ code: 'already_exists' });

    owner.child.kill('SIGKILL');
    await owner.exited;
    // Once the server has dropped the killed node's connection (its service instance answers no more), nothing
    // answers for the module: the claim it left is stale.
    await waitFor(() => noResponders(nc(), `$SRV.PING.tether.${ownerId}`), { message: 'the killed node is gone' });
    expect(await listed()).toEqual([]);

    const taken = await onB.module('local', localSpec);

    expect(await listed()).toEqual([{ moduleId: 'local', node: b.serviceId }]);
    const session = await (await fx().client()).session('s1');
    for (let i = 0; i < 6; i++) await (await session.module('local')).execute({ question: `call ${i}` });
    expect(await taken.describe()).toMatchObject({ completed: 6 });
  }, 30_000);

  it('counts an owner cut off from NATS as gone: both copies run meanwhile, and the owner stops its own once back', async () => {
    const buckets = fx().buckets();
    const proxy = await startTcpProxy(fx().server.url);
    onTestFinished(() => proxy.close());
    const a = await fx().node(buckets, {
      llm: createEchoModel(),
      servers: proxy.url,
      nats: { reconnect: { waitMs: 100 } },
    });
    const b = await fx().node(buckets, { llm: createEchoModel() });
    const first = await (await a.runtime.session('s1')).module('local', localSpec);

    proxy.cut();
    await waitFor(() => noResponders(nc(), `$SRV.PING.tether.${a.serviceId}`), {
      message: 'the server dropped node A',
    });
    const second = await (await b.runtime.session('s1')).module('local', localSpec);

    // Node A's copy still runs for the handles held there; clients see node B's alone.
    expect((await first.execute({ question: 'still here?' })).moduleType).toBe('ReAct');
    expect(await listed()).toEqual([{ moduleId: 'local', node: b.serviceId }]);
    proxy.restore();
    await waitFor(() => !first.alive, { timeout: 10_000, message: 'node A stops its copy once it is back' });
    expect(second.alive).toBe(true);
    expect(await listed()).toEqual([{ moduleId: 'local', node: b.serviceId }]);
    const session = await (await fx().client()).session('s1');
    for (let i = 0; i < 4; i++) await (await session.module('local')).execute({ question: `call ${i}` });
    expect(await second.describe()).toMatchObject({ completed: 4 });
  }, 30_000);

  it('changes nothing for a refused creation, and gives the id back when the build fails after the claim', async () => {
    const { a, onA, onB } = await twoNodes();
    await onA.module('local', localSpec);
    // Refused before any claim: an unknown type.
    await expect(onB.module('local', { ...localSpec, type: 'NoSuchType' })).rejects.toMatchObject({
      code: 'unknown_module',
    });
    // Refused by the build, after the claim: the type variable does not exist. The id is given back.
    await expect(
      onB.module('other', { signature: predict.signature, typeVariable: 'missing', tools: [echoTool] }),
    ).rejects.toMatchObject({ code: 'variable_not_found', details: { variable: 'missing' } });

    expect(await listed()).toEqual([{ moduleId: 'local', node: a.serviceId }]);
    await onA.module('other', localSpec);
    await expect(onB.module('other', localSpec)).rejects.toMatchObject({ code: 'already_exists' });
  });
});

describe('what a claim check and a listing rely on', () => {
  /** A claim as a node writes it, naming `node`. */
  const claimOf = (node: unknown): string =>
    JSON.stringify({ nodeLocal: true, node, claimedAt: new Date().toISOString() });

  /** Answers the pings of a node `id` (as its service instance would), counting them. */
  function pingAnswerer(id: string): { pings: number } {
    const counted = { pings: 0 };
    const sub = nc().subscribe(`$SRV.PING.tether.${id}`, {
      callback: (_error, msg) => {
        counted.pings += 1;
        msg.respond(enc.encode(JSON.stringify({ type: 'io.nats.micro.v1.ping_response', name: 'tether', id })));
      },
    });
    onTestFinished(() => sub.unsubscribe());
    return counted;
  }

  it('lists the claims of each node that answers its ping, asking each node once, and leaves the others out', async () => {
    const buckets = fx().buckets();
    const a = await fx().node(buckets, { llm: createEchoModel() });
    await (await a.runtime.session('s1')).module('spec', predict);
    await nc().flush();
    const alive = pingAnswerer('AliveNode1');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    for (const id of ['x1', 'x2', 'x3']) await kv.put(`s1.${id}`, claimOf('AliveNode1'));
    await kv.put('s1.gone', claimOf('GoneNode1'));
    // Alive to the server but stalled: it takes its pings and answers none, so nothing says it still has the module.
    const stalled = nc().subscribe('$SRV.PING.tether.StalledNode1', { callback: () => {} });
    onTestFinished(() => stalled.unsubscribe());
    await kv.put('s1.stalled', claimOf('StalledNode1'));
    // Whatever was written there: a claim naming no node a subject can reach, or no string at all.
    await kv.put('s1.bad1', claimOf('not a node'));
    await kv.put('s1.bad2', claimOf({ id: 5 }));

    expect(await listed()).toEqual([
      { moduleId: 'spec', spec: predict },
      { moduleId: 'x1', node: 'AliveNode1' },
      { moduleId: 'x2', node: 'AliveNode1' },
      { moduleId: 'x3', node: 'AliveNode1' },
    ]);
    expect(alive.pings).toBe(1);
  });

  it('finds nobody answering for a module whose node answers module_not_found (it is letting the id go)', async () => {
    const forward = createModuleForward(nc(), createSubjects());
    const answer = (code: string) =>
      nc().subscribe(`tether.v1.forward.s1.module.${code}.describe`, {
        callback: (_error, msg) => {
          const h = headers();
          h.set('Nats-Service-Error-Code', code === 'module_not_found' ? '404' : '500');
          h.set('Nats-Service-Error', code);
          msg.respond(enc.encode(JSON.stringify({ error: { code, message: code, details: {} } })), { headers: h });
        },
      });
    const subs = [answer('module_not_found'), answer('internal_error')];
    onTestFinished(() => subs.forEach((sub) => sub.unsubscribe()));
    await nc().flush();

    expect(await forward.answers('s1', 'module_not_found')).toBe(false);
    // Any other answer comes from a node that may still have the module: it keeps the id.
    expect(await forward.answers('s1', 'internal_error')).toBe(true);
    expect(await forward.answers('s1', 'nobody')).toBe(false);
  });

  it('counts a node that takes the question but answers nothing in time as answering, with no outcome on a read', async () => {
    const forward = createModuleForward(nc(), createSubjects());
    const stalled = nc().subscribe('tether.v1.forward.s1.module.slow.describe', { callback: () => {} });
    onTestFinished(() => stalled.unsubscribe());
    await nc().flush();

    const [answers, described] = await Promise.all([
      forward.answers('s1', 'slow'),
      forward.describe('s1', 'slow', undefined).catch((error: unknown) => error),
    ]);

    // It may still have the module: the id stays taken.
    expect(answers).toBe(true);
    expect(described).toBeInstanceOf(CallTimeoutError);
    expect(described).toMatchObject({ code: 'call_timeout', details: { timeoutMs: FORWARDED_DESCRIBE_WAIT_MS } });
    // A describe changes nothing: its outcome is not unknown, as that of an execution is.
    expect((described as CallTimeoutError).details).not.toHaveProperty('outcome');
  });

  it('fails a claim check NATS refuses with a typed error naming the module', async () => {
    const closed = await connect({ servers: fx().server.url });
    await closed.close();

    const checked = createModuleForward(closed, createSubjects()).answers('s1', 'qa');

    await expect(checked).rejects.toBeInstanceOf(InternalError);
    await expect(checked).rejects.toMatchObject({
      message: expect.stringContaining("module 'qa' in session 's1'"),
      details: { sessionId: 's1', moduleId: 'qa', natsCode: 'CONNECTION_CLOSED' },
    });
    await expect(checked).rejects.toBeInstanceOf(BridgeError);
  });

  it('gives back only its own claim: one taken over since is left as it is', async () => {
    const buckets = fx().buckets();
    const specs = await openModuleSpecs(nc(), { bucket: buckets.modulesBucket });
    const claim = { nodeLocal: true, node: 'OwnerNode1', claimedAt: new Date().toISOString() } as const;
    const owned = await specs.claim('s1', 'm', claim);
    const taken = await specs.claim('s1', 'm', { ...claim, node: 'TakerNode1' }, owned);

    expect(await specs.release('s1', 'm', owned)).toBe(false);

    expect(await specs.current('s1', 'm')).toEqual({ revision: taken, local: { ...claim, node: 'TakerNode1' } });
    expect(await specs.release('s1', 'm', taken)).toBe(true);
    expect(await specs.current('s1', 'm')).toBeUndefined();
  });
});
