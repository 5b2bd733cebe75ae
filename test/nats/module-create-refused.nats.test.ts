import { headers } from 'nats';
import { describe, expect, it } from 'vitest';
import { createEchoModel, type ModuleTool } from '../../src/index.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

/** The modules bucket's stream as any NATS tool sees it: its last revision and how many keys it holds. */
async function bucketState(buckets: TestBuckets): Promise<{ lastRevision: number; keys: number }> {
  const manager = await nc().jetstreamManager();
  const { state } = await manager.streams.info(`KV_${buckets.modulesBucket}`);
  return { lastRevision: state.last_seq, keys: state.num_subjects ?? 0 };
}

/** A raw `module.create` of session `s1`: the error code of its reply, or 'created'. */
async function create(moduleId: string, spec: object): Promise<string> {
  const reply = await nc().request(
    `tether.v1.session.s1.module.${moduleId}.create`,
    enc.encode(JSON.stringify({ spec })),
    {
      timeout: 10_000,
      headers: headers(),
    },
  );
  return reply.json<{ error?: { code: string } }>().error?.code ?? 'created';
}

/** A node with session `s1` holding `hot` (a string no temperature can take) and `kind` (a module type). */
async function nodeWithSession(): Promise<{ buckets: TestBuckets; session: Awaited<ReturnType<typeof open>> }> {
  const buckets = fx().buckets();
  const node = await fx().node(buckets, { llm: createEchoModel() });
  return { buckets, session: await open(node.runtime) };
}

async function open(runtime: { session(id: string): Promise<import('../../src/index.js').Session> }) {
  const session = await runtime.session('s1');
  await session.defineVariable('hot', 'string', 'hot');
  await session.defineVariable('kind', 'module', 'Nope');
  return session;
}

describe('module creation refused', () => {
  it('writes nothing to the modules bucket when a create over the wire is refused, for any number of ids', async () => {
    const { buckets } = await nodeWithSession();
    const before = await bucketState(buckets);

    expect(await create('m1', { ...predict, bindings: { temperature: 'nosuch' } })).toBe('variable_not_found');
    expect(await create('m2', { ...predict, signature: 'q -> a' })).toBe('validation_failed');
    expect(await create('m3', { ...predict, bindings: { temperature: 'hot' } })).toBe('validation_failed');
    expect(await create('m4', { ...predict, type: undefined, typeVariable: 'kind' })).toBe('unknown_module');
    expect(await create('m5', { ...predict, type: undefined, typeVariable: 'nosuch' })).toBe('variable_not_found');

    // No revision, no key, no delete marker: a refused operation changes nothing.
    expect(await bucketState(buckets)).toEqual(before);
    // And the id is free: the same id with a good spec is created.
    expect(await create('m1', predict)).toBe('created');
    expect(await bucketState(buckets)).toEqual({ lastRevision: before.lastRevision + 1, keys: before.keys + 1 });
  });

  it('writes nothing when an embedded create on a node is refused, for a spec any node can wake', async () => {
    const { buckets, session } = await nodeWithSession();
    const before = await bucketState(buckets);

    await expect(session.module('m1', { ...predict, bindings: { temperature: 'nosuch' } })).rejects.toMatchObject({
      code: 'variable_not_found',
    });
    await expect(session.module('m2', { ...predict, signature: 'q -> a' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(session.module('m3', { ...predict, bindings: { temperature: 'hot' } })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect(await bucketState(buckets)).toEqual(before);
  });

  it('writes no claim when the creation of a module that stays on its node is refused', async () => {
    const { buckets, session } = await nodeWithSession();
    const local = { ...predict, type: 'ReAct', tools: [echoTool] };
    const before = await bucketState(buckets);

    await expect(session.module('l1', { ...local, bindings: { temperature: 'nosuch' } })).rejects.toMatchObject({
      code: 'variable_not_found',
    });
    await expect(session.module('l2', { ...local, signature: 'q -> a' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(session.module('l3', { ...local, bindings: { temperature: 'hot' } })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect(await bucketState(buckets)).toEqual(before);
    // The id is free: created now, it holds one claim (written twice, see module-claims.ts).
    await session.module('l1', local);
    expect((await bucketState(buckets)).keys).toBe(before.keys + 1);
  });

  it('lists as available only the types a create over the wire accepts; an embedded create lists them all', async () => {
    const { session } = await nodeWithSession();
    const wireTypes = [
      'Predict',
      'ChainOfThought',
      'ChainOfThoughtWithHint',
      'ReAct',
      'ProgramOfThought',
      'MultiChainComparison',
    ];
    const refusal = async (sessionId: string, spec: object) =>
      (await rawReply(nc(), `tether.v1.session.${sessionId}.module.m.create`, JSON.stringify({ spec }))).body.error;
    // A type variable's value lists what that variable can select: this spec has no tools, so not ReAct either.
    const selectable = wireTypes.filter((type) => type !== 'ReAct');
    // A type of the spec, in an open session and judged for one that is not there, and a type variable's value.
    for (const [sessionId, spec, available] of [
      ['s1', { ...predict, type: 'Nope' }, wireTypes],
      ['not-open', { ...predict, type: 'Nope' }, wireTypes],
      ['s1', { ...predict, type: undefined, typeVariable: 'kind' }, selectable],
    ] as const) {
      const error = await refusal(sessionId, spec);
      expect(error, JSON.stringify(spec)).toMatchObject({
        code: 'unknown_module',
        message: expect.stringMatching(
          new RegExp(`^Unknown module type 'Nope'.*; available: ${available.join(', ')}$`),
        ),
        details: { moduleType: 'Nope', available },
      });
    }
    const embedded = await session.module('m', { ...predict, type: 'Nope' }).catch((e: unknown) => e);
    expect(embedded).toMatchObject({
      code: 'unknown_module',
      details: { available: expect.arrayContaining([...wireTypes, 'BestOfN', 'Refine']) },
    });
  });
});
