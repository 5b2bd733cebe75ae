import { onTestFinished, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { SessionError, ValidationError } from '../../src/errors.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';
import { storedOfSession } from '../support/session-storage.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Defines that a node refuses for their input, each with what its refusal says. */
const REFUSED: readonly [body: object, message: string][] = [
  [{ name: 'x', type: 'nosuch', value: 1 }, "x: unknown variable type 'nosuch'"],
  [{ name: 'x', type: 'integer', value: 1.5 }, 'x: must be a whole number, got 1.5'],
  [{ name: 'x', type: 'integer', value: 5, options: { constraints: { max: 2 } } }, 'x: value 5 is above maximum 2'],
  [
    { name: 'x', type: 'integer', value: 1, options: { constraints: { mxa: 2 } } },
    "x: unknown constraint 'mxa' for type integer",
  ],
  [
    { name: 'x', type: 'string', value: 'a', options: { constraints: { pattern: '(' } } },
    'x: constraint pattern is not a valid regular expression',
  ],
  [{ name: 'x', type: 'integer', value: 1, options: { colour: 'red' } }, "unknown option 'colour'"],
  [{ name: 'a.b', type: 'integer', value: 1 }, "invalid variable name 'a.b'"],
  [{ name: 'x', type: 'integer', value: 1, bogus: true }, 'define got unknown field bogus'],
];

describe('define judgement', () => {
  it('refuses a define with bad input on a session that does not exist with its own error, and creates nothing', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    const refusals = await Promise.all(
      REFUSED.map(([body], i) => rawReply(nc(), `tether.v1.session.judged-${i}.var.define`, JSON.stringify(body))),
    );
    refusals.forEach(({ body }, i) => {
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.message).toContain(REFUSED[i]![1]);
    });
    // An acceptable define is told the session is not there; it was never opened, and nothing was written for any.
    const accepted = await rawReply(
      nc(),
      'tether.v1.session.judged-ok.var.define',
      JSON.stringify({ name: 'x', type: 'integer', value: 1 }),
    );
    expect(accepted.body.error).toMatchObject({ code: 'session_not_found', details: { sessionId: 'judged-ok' } });
    for (const id of [...REFUSED.keys()].map((i) => `judged-${i}`).concat('judged-ok')) {
      expect(await storedOfSession(nc(), buckets, id)).toEqual({ variables: 0, modules: 0, record: 0 });
      const listed = await rawReply(nc(), `tether.v1.session.${id}.var.list`, '{}');
      expect(listed.body.error?.code).toBe('session_not_found');
    }
  });

  it('judges a define on a session that does not exist against the node limit on a record', async () => {
    const buckets = fx().buckets();
    const node = await Runtime.start({
      onError: () => {},
      nats: { servers: fx().server.url, ...buckets, maxRecordBytes: 2048 },
    });
    onTestFinished(() => node.stop());
    const big = { name: 'doc', type: 'string', value: 'd'.repeat(4096) };
    const { body } = await rawReply(nc(), 'tether.v1.session.judged-big.var.define', JSON.stringify(big));
    expect(body.error).toMatchObject({
      code: 'validation_failed',
      details: { constraint: 'maxRecordBytes', limit: 2048 },
    });
    expect(await storedOfSession(nc(), buckets, 'judged-big')).toEqual({ variables: 0, modules: 0, record: 0 });
  });

  it('gives a remote client the refusal of a define on a session it did not open, and creates nothing', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const unopened = await client.session('judged-remote', { create: false });
    // @ts-expect-error: an unknown type, as a JavaScript caller may give it
    const refusal = await unopened.defineVariable('x', 'nosuch', 1).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as Error).message).toContain("x: unknown variable type 'nosuch'");
    await expect(unopened.defineVariable('x', 'integer', 7, { constraints: { min: 10 } })).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'x: value 7 is below minimum 10',
    });
    // A define it would take says the session is not there; no other client finds the session.
    const missing = await unopened.defineVariable('x', 'integer', 1).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SessionError);
    expect(missing).toMatchObject({ code: 'session_not_found', sessionId: 'judged-remote' });
    const other = await fx().client();
    await expect((await other.session('judged-remote', { create: false })).listVariables()).rejects.toMatchObject({
      code: 'session_not_found',
    });
  });
});
