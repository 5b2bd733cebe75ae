import { describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { SessionError, VariableNotFoundError } from '../../src/errors.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { storedOfSession } from '../support/session-storage.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/** Specs a new, empty session refuses, each with the code and message of its refusal. */
const REFUSED: readonly [spec: object, code: string, message: string][] = [
  [
    { ...predict, bindings: { temperature: 't' } },
    'variable_not_found',
    "variable 't' not found in session 'judged-0'",
  ],
  [{ ...predict, signature: 'q -> a' }, 'validation_failed', "invalid signature 'q -> a'"],
  [{ ...predict, type: 'Nope' }, 'unknown_module', "Unknown module type 'Nope'"],
  [{ signature: predict.signature, typeVariable: 'kind' }, 'variable_not_found', "variable 'kind' not found"],
  [{ ...predict, tools: ['nosuch'] }, 'validation_failed', "unknown tool 'nosuch'"],
  [{ ...predict, bogus: 1 }, 'validation_failed', 'module spec has unknown keys: bogus'],
  [{ ...predict, maxSteps: 3 }, 'validation_failed', 'module type Predict does not use maxSteps'],
];

describe('module create judgement', () => {
  it('refuses a create on a session that does not exist as a new session would, and creates nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    const create = (sessionId: string, spec: object) =>
      rawReply(nc(), `tether.v1.session.${sessionId}.module.m.create`, JSON.stringify({ spec }));
    const refusals = await Promise.all(REFUSED.map(([spec], i) => create(`judged-${i}`, spec)));
    refusals.forEach(({ body }, i) => {
      expect(body.error).toMatchObject({ code: REFUSED[i]![1] });
      expect(body.error.message).toContain(REFUSED[i]![2]);
    });
    // A spec a new session takes is told the session is not there; it was never opened, and nothing was written.
    expect((await create('judged-ok', predict)).body.error).toMatchObject({ code: 'session_not_found' });
    for (const id of [...REFUSED.keys()].map((i) => `judged-${i}`).concat('judged-ok')) {
      expect(await storedOfSession(nc(), buckets, id)).toEqual({ variables: 0, modules: 0, record: 0 });
      const listed = await rawReply(nc(), `tether.v1.session.${id}.module.list`, '{}');
      expect(listed.body.error?.code).toBe('session_not_found');
    }
  });

  it('gives a remote client the refusal of a create on a session it did not open, and creates nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets, { llm: createEchoModel() });
    const client = await fx().client();
    const unopened = await client.session('judged-remote', { create: false });
    const refusal = await unopened
      .module('qa', { ...predict, bindings: { temperature: 'llm_temperature' } })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(VariableNotFoundError);
    expect(refusal).toMatchObject({ variable: 'llm_temperature', sessionId: 'judged-remote' });
    const missing = await unopened.module('qa', predict).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SessionError);
    expect(missing).toMatchObject({ code: 'session_not_found' });
    expect(await storedOfSession(nc(), buckets, 'judged-remote')).toEqual({ variables: 0, modules: 0, record: 0 });
  });

  // Found by the differential fuzzer: a node built the module before it claimed the id, so a create of an id in use
  // whose spec the session refused (a bound variable missing, say) answered that refusal, where an embedded runtime
  // answers already_exists, as it does for any spec once the id is taken.
  it('answers already_exists for an id in use, whatever the session would say of the spec, as embedded', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { llm: createEchoModel() });
    const other = await fx().runtime(buckets, { llm: createEchoModel() });
    const embedded = await Runtime.start({ llm: createEchoModel() });
    try {
      const client = await fx().client();
      const missingBinding = { ...predict, bindings: { temperature: 'missing' } };
      const sessions = [
        await embedded.session('taken'),
        await node.session('taken'),
        await other.session('taken'),
        await client.session('taken'),
      ];
      await sessions[0]!.module('qa', predict);
      await sessions[1]!.module('qa', predict);
      for (const session of sessions) {
        const refusal = await session.module('qa', missingBinding).catch((error: unknown) => error);
        expect(refusal).toMatchObject({
          code: 'already_exists',
          message: "module 'qa' already exists",
          details: { sessionId: 'taken' },
        });
      }
      // A free id still hears what is wrong with its spec.
      for (const session of sessions)
        await expect(session.module('qb', missingBinding)).rejects.toMatchObject({ code: 'variable_not_found' });
    } finally {
      await embedded.stop();
    }
  });
});
