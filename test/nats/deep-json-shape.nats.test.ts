import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import type { JsonShape } from '../../src/variables/types.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

let embedded: Runtime;
beforeAll(async () => {
  embedded = await Runtime.start({ onError: () => {} });
});
afterAll(async () => {
  await embedded?.stop();
});

/**
 * A shape as deep as the deepest value it can describe: 255 levels of `properties` (two JSON levels each), each with
 * `required`, and an `enum` at the bottom.
 */
function deepestShape(): JsonShape {
  let shape: unknown = { enum: ['x', ['x']] };
  for (let i = 0; i < 255; i++) shape = { type: 'object', required: ['a'], properties: { a: shape } };
  return shape as JsonShape;
}

/** A value of that shape, with `leaf` at the bottom. */
function valueWith(leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < 255; i++) value = { a: value };
  return value;
}

const shape = deepestShape();
const fitting = valueWith('x');
const breaking = valueWith('y');

describe('a json variable whose shape is as deep as its deepest value', () => {
  it('is defined, read and written by a remote client as by an embedded session, and refused alike', async () => {
    const local = await embedded.session('deep-shape');
    await local.defineVariable('cfg', 'json', fitting as never, { constraints: { shape } });
    const localRefusal = await local.setVariable('cfg', breaking as never).catch((error: unknown) => error);
    expect(localRefusal).toMatchObject({ code: 'validation_failed', details: { constraint: 'shape' } });

    await fx().node(fx().buckets());
    const remote = await (await fx().client()).session('deep-shape');
    const defined = await remote.defineVariable('cfg', 'json', fitting as never, { constraints: { shape } });
    expect(defined.constraints).toEqual({ shape });
    expect((await remote.describeVariable('cfg')).version).toBe(1);
    const refusal = await remote.setVariable('cfg', breaking as never).catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      message: (localRefusal as Error).message,
      details: (localRefusal as { details: object }).details,
    });
    expect((await remote.setVariable('cfg', fitting as never)).version).toBe(2);

    const exported = await remote.exportVariables();
    const copy = await (await fx().client()).session('deep-shape-copy');
    expect(await copy.importVariables(exported)).toBe(1);
    expect((await copy.describeVariable('cfg')).constraints).toEqual({ shape });
  }, 15_000);

  it('is defined by a plain NATS request and described back whole', async () => {
    await fx().node(fx().buckets());
    const define = { name: 'cfg', type: 'json', value: fitting, options: { constraints: { shape } } };
    const subject = 'tether.v1.session.deep-shape-raw.var';
    expect((await rawReply(nc(), 'tether.v1.session.deep-shape-raw.open', '{}')).errorCode).toBe('');
    const defined = await rawReply(nc(), `${subject}.define`, JSON.stringify(define));
    expect(defined.errorCode).toBe('');
    const described = await rawReply(nc(), `${subject}.describe`, JSON.stringify({ name: 'cfg' }));
    expect(described.body.result.constraints).toEqual({ shape });
  }, 15_000);
});
