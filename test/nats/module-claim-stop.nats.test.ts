import { describe, expect, it, onTestFinished } from 'vitest';
import { createEchoModel, type ModuleTool } from '../../src/index.js';
import { moduleProcessName } from '../../src/node/module-directory.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const dec = new TextDecoder();
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
/** A spec holding a function cannot be written to the modules bucket: the module stays on the node creating it. */
const localSpec = { type: 'ReAct', signature: 'question:string -> answer:string', tools: [echoTool] } as const;
const stopSubject = createSubjects().moduleControl('s1', 'local', 'stop');

/** A claim as a node writes it, naming `node`. */
const claimOf = (node: string): string =>
  JSON.stringify({ nodeLocal: true, node, claimedAt: new Date().toISOString() });

/** The wire stop of module `moduleId` of session `s1`, as any NATS client sends it: its result or its error. */
async function wireStop(moduleId: string): Promise<{ result?: unknown; error?: { code: string; details: object } }> {
  const reply = await nc().request(`tether.v1.session.s1.module.${moduleId}.stop`, enc.encode('{}'), {
    timeout: 10_000,
  });
  return JSON.parse(dec.decode(reply.data));
}

describe('stopping a module that stays on its node', () => {
  it('stops only the module under the claim it names: one created again keeps running', async () => {
    const buckets = fx().buckets();
    const m = await fx().node(buckets, { llm: createEchoModel() });
    const session = await m.runtime.session('s1');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    await session.module('local', localSpec);
    const before = (await kv.get('s1.local'))!.revision;
    await (await session.module('local')).stop();
    const again = await session.module('local', localSpec);
    const claim = (await kv.get('s1.local'))!.revision;
    const process = m.runtime.whereis(moduleProcessName('s1', 'local'));

    // A stop of the claim before (as one that read the bucket before the creation sends it): node M answers that
    // it stopped nothing. Then a stop naming no claim, which node M does not answer.
    const stale = await nc().request(stopSubject, enc.encode(JSON.stringify({ claim: before, node: m.serviceId })));
    nc().publish(stopSubject, enc.encode('{}'));
    // Sent after the stop, so taken after it: a node stopping any module of the id has stopped this one by then.
    const executed = await nc().request(
      'tether.v1.session.s1.module.local.execute',
      enc.encode('{"inputs":{"question":"still there?"}}'),
      { timeout: 10_000 },
    );

    expect(JSON.parse(dec.decode(stale.data))).toEqual({ stopped: false });
    expect(JSON.parse(dec.decode(executed.data))).toMatchObject({ result: { moduleType: 'ReAct' } });
    expect(again.alive).toBe(true);
    expect(m.runtime.whereis(moduleProcessName('s1', 'local'))).toBe(process);
    expect((await kv.get('s1.local'))?.revision).toBe(claim);
  });

  it('removes the claim of a node that is gone, and answers that the module stopped', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    await (await fx().client()).session('s1');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    // Left by a node killed without giving it back: no service instance of that id answers.
    await kv.put('s1.ghost', claimOf('GoneNode2'));

    expect(await wireStop('ghost')).toMatchObject({ result: { stopped: true } });

    expect((await kv.get('s1.ghost'))?.operation).toBe('DEL');
  });

  it('leaves the claim of a node that is alive but has not stopped the module, and says so with call_timeout', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    await (await fx().client()).session('s1');
    const kv = await nc().jetstream().views.kv(buckets.modulesBucket);
    // A node that answers its pings but not the stop (stalled, or still stopping its module): the module may run.
    const pings = nc().subscribe('$SRV.PING.tether.SlowNode1', {
      callback: (_error, msg) => msg.respond(enc.encode(JSON.stringify({ name: 'tether', id: 'SlowNode1' }))),
    });
    onTestFinished(() => pings.unsubscribe());
    await nc().flush();
    const claim = await kv.put('s1.slow', claimOf('SlowNode1'));

    expect(await wireStop('slow')).toMatchObject({
      // The stop goes on there: the module may yet stop.
      error: {
        code: 'call_timeout',
        details: { sessionId: 's1', moduleId: 'slow', node: 'SlowNode1', outcome: 'unknown' },
      },
    });

    expect((await kv.get('s1.slow'))?.revision).toBe(claim);
  });
});
