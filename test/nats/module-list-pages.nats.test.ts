import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

// A small max_payload, so that two large specs make a list too large for one reply; sizes are read from the server.
const fx = useNatsFixture({ maxPayload: 64 * 1024 });
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

const spec = (instructions = 'be brief') => ({
  type: 'Predict',
  signature: 'question:string -> answer:string',
  instructions,
});

/** The reply to `module.list` of `sessionId` with `body`, as any NATS client reads it. */
async function list(sessionId: string, body: object): Promise<{ result?: unknown; error?: Record<string, unknown> }> {
  const reply = await nc().request(`tether.v1.session.${sessionId}.module.list`, enc.encode(JSON.stringify(body)), {
    timeout: 10_000,
  });
  return reply.json();
}

describe('module.list pages', () => {
  it('pages by id with after and limit, answers every module without a limit, and leaves specs out on request', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('pages');
    for (const id of ['c', 'a', 'b']) await session.module(id, spec());

    const all = await list('pages', {});
    expect((all.result as { moduleId: string }[]).map((entry) => entry.moduleId)).toEqual(['a', 'b', 'c']);
    expect((all.result as { spec: unknown }[])[0]!.spec).toMatchObject(spec());
    const ids = async (body: object) =>
      ((await list('pages', body)).result as { moduleId: string }[]).map((entry) => entry.moduleId);
    expect(await ids({ limit: 2 })).toEqual(['a', 'b']);
    // Strictly after, whether or not the id exists; a page shorter than its limit is the last.
    expect(await ids({ after: 'b', limit: 2 })).toEqual(['c']);
    expect(await ids({ after: 'aa' })).toEqual(['b', 'c']);
    expect(await ids({ after: 'c' })).toEqual([]);
    expect((await list('pages', { specs: false, limit: 2 })).result).toEqual([{ moduleId: 'a' }, { moduleId: 'b' }]);
  });

  it('refuses a malformed page request, naming the field, and the node goes on serving', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('bad');
    await session.module('a', spec());
    for (const [body, field, message] of [
      [{ limit: 0 }, 'limit', "field 'limit' must be a whole number from 1 to 5000, got 0"],
      [{ limit: 'all' }, 'limit', "field 'limit' must be a whole number from 1 to 5000, got string"],
      [{ after: 5 }, 'after', undefined],
      [{ specs: 'no' }, 'specs', undefined],
    ] as const) {
      const { error } = await list('bad', body);
      expect(error, JSON.stringify(body)).toMatchObject({ code: 'validation_failed', details: { field } });
      if (message) expect(error!.message).toBe(message);
    }
    const { error } = await list('bad', { bogus: 1 });
    expect(error).toMatchObject({
      code: 'validation_failed',
      message: 'module list got unknown field bogus; accepted: after, limit, specs',
    });
    expect((await list('bad', {})).result).toHaveLength(1);
  });

  it('answers a list too large for one reply with a hint, and the client lists the ids of modules with large specs', async () => {
    await fx().node(fx().buckets(), { llm: createEchoModel() });
    const session = await (await fx().client()).session('large');
    // Two specs of 60% of max_payload each: one fits in a reply, both do not.
    const instructions = 'x'.repeat(Math.floor(nc().info!.max_payload * 0.6));
    await session.module('m1', spec(instructions));
    await session.module('m2', spec(instructions));

    const { error } = await list('large', {});
    expect(error).toMatchObject({
      code: 'payload_too_large',
      details: { operation: 'module.list', sessionId: 'large' },
    });
    expect(error!.message).toMatch(/ask for fewer modules at a time with limit and after, or for their ids alone/);
    // Page by page, each fits.
    const first = (await list('large', { limit: 1 })).result as { moduleId: string }[];
    const second = (await list('large', { after: first[0]!.moduleId, limit: 1 })).result as { moduleId: string }[];
    expect([...first, ...second].map((entry) => entry.moduleId)).toEqual(['m1', 'm2']);
    // The client asks for ids alone.
    expect((await session.modules()).map((module) => module.moduleId)).toEqual(['m1', 'm2']);
  });
});
