/**
 * An execution's object inputs reach the model as JSON. The module refused a number that is not finite and a bigint
 * there; the other parts JSON rewrites without a word ran changed (found in review): a `Map` (written as `{}`, its
 * entries lost), a hole or an `undefined` item of a list (written as `null`), a function member (dropped). Each is
 * refused with `validation_failed` naming the field and the path, before anything runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';

describe('execute inputs JSON would rewrite', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('refuses a Map, a hole, an undefined item and a function member in a json input as it refuses NaN', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    const qa = await session.module('qa', { type: 'Predict', signature: 'cfg:json -> answer:string' });

    // What is refused today: NaN, which JSON writes as null.
    await expect(qa.execute({ cfg: { ratio: Number.NaN } })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'cfg', path: 'cfg.ratio' },
    });

    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const cases: [label: string, cfg: unknown][] = [
      ['a Map (its entries lost: written as {})', { settings: new Map([['retries', 3]]) }],
      ['a hole (written as null)', sparse],
      ['an undefined item (written as null)', [1, undefined, 3]],
      ['a function member (dropped)', { retries: 3, onRetry: () => 1 }],
    ];
    for (const [label, cfg] of cases) {
      let outcome: unknown;
      try {
        outcome = (await qa.execute({ cfg })).output.answer;
      } catch (error) {
        outcome = error;
      }
      expect(outcome, `${label}: reached the model as ${String(outcome)}`).toMatchObject({
        code: 'validation_failed',
        details: { field: 'cfg', path: expect.stringMatching(/^cfg[.[]/) },
      });
      expect((outcome as Error).message).toMatch(/^input field 'cfg' holds .+ at cfg.+, which JSON cannot carry$/);
    }
  });

  // Found in an audit of the README: a Map or a Set given as the field itself (not inside it) was taken, and the model
  // was sent `{}`.
  it('refuses a Map or a Set given as the json field itself, as it refuses one inside it', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    const qa = await session.module('qa', { type: 'Predict', signature: 'cfg:json -> answer:string' });
    for (const [cfg, got] of [
      [new Map([['retries', 3]]), 'a Map'],
      [new Set([3]), 'a Set'],
    ] as const) {
      await expect(qa.execute({ cfg })).rejects.toMatchObject({
        code: 'validation_failed',
        message: `input field 'cfg' holds ${got} at cfg, which JSON cannot carry`,
        details: { field: 'cfg', path: 'cfg', got },
      });
    }
    expect((await qa.describe()).completed).toBe(0);
  });

  it("takes an object's undefined member (JSON leaves it out, as absent), a Date, and what a toJSON writes", async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    const qa = await session.module('qa', { type: 'Predict', signature: 'cfg:json -> answer:string' });
    const { output } = await qa.execute({ cfg: { retries: 3, timeout: undefined, since: new Date(0) } });
    expect(String(output.answer)).toContain('"retries": 3');
    // One with a toJSON is written as what that returns, whatever its members hold.
    const written = await qa.execute({ cfg: { held: new Map([['a', 1]]), toJSON: () => ({ shown: 1 }) } });
    expect(String(written.output.answer)).toContain('"shown": 1');
  });

  // Found in an audit of the inspect feed: a toJSON that threw was left to Ax, and failed the execution as the
  // program's internal_error after it had been queued (its input breaking the feed's snapshots meanwhile).
  it('refuses a json input whose toJSON throws, or writes what JSON cannot carry, before anything runs', async () => {
    runtime = await Runtime.start({ llm: createEchoModel() });
    const session = await runtime.session('s1');
    const qa = await session.module('qa', { type: 'Predict', signature: 'cfg:json -> answer:string' });
    class Secret {
      toJSON(): never {
        throw new Error('Secret is not to be written');
      }
    }
    await expect(qa.execute({ cfg: new Secret() })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "input field 'cfg' at cfg.toJSON() could not be read: Secret is not to be written",
      details: { field: 'cfg', path: 'cfg.toJSON()', constraint: 'unreadable' },
    });
    await expect(qa.execute({ cfg: { inner: [new Secret()] } })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'cfg', path: 'cfg.inner[0].toJSON()' },
    });
    await expect(qa.execute({ cfg: { toJSON: () => ({ ratio: Number.NaN }) } })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "input field 'cfg' holds NaN at cfg.toJSON().ratio, which JSON cannot carry",
    });
    await expect(qa.execute({ cfg: { toJSON: () => new Map() } })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'cfg', path: 'cfg.toJSON()', got: 'a Map' },
    });
    const description = await qa.describe();
    expect([description.completed, description.failed]).toEqual([0, 0]);
  });
});
