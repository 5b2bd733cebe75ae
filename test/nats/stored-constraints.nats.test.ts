import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { createVariableRecord } from '../../src/variables/record.js';
import { STORED_CONSTRAINTS_BUDGET_BYTES } from '../../src/variables/stored-constraints.js';
import { liveStrings } from '../support/heap-strings.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** `count` distinct options of `length` characters, each holding `marker` (ended by `-`, so no marker is another's). */
const optionsOf = (marker: string, count: number, length = 48): string[] =>
  Array.from({ length: count }, (_, k) => `${marker}-${k}-`.padEnd(length, 'o'));

/** The options {@link optionsOf} makes with a marker matching `marker`, and no string of the test's code. */
const optionsMarked = (marker: string): RegExp => new RegExp(`${marker}-\\d+-o+`);

/** Until the node holds no option of `marker`: each look is a heap snapshot, about a second. */
const letGoOf = (marker: string): Promise<boolean> =>
  waitFor(async () => (await liveStrings(optionsMarked(marker))) === 0, {
    timeout: 10_000,
    interval: 100,
    message: marker,
  });

// Found by a review: a node kept the constraints of every record it read (4096 variables, any size), deleted or not.
describe('a node memory of checked constraints', () => {
  it('lets go of the constraints of a deleted variable, and of every variable of a deleted session', async () => {
    const node = await fx().runtime(fx().buckets());
    const session = await node.session('catalogue');
    // Made here, in a function that returns: the test's own frame holds none of their strings.
    const define = async (at: Session): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const choices = optionsOf(`CHOICE${i}`, 2000);
        await at.defineVariable(`pick${i}`, 'choice', choices[0], { constraints: { choices } });
      }
      // A json shape's enum also has its table of options (json-shape-enums.ts), built as its value is checked.
      const options = optionsOf('SHAPE', 2000);
      await at.defineVariable('config', 'json', options[1], { constraints: { shape: { enum: options } } });
    };
    await define(session);

    await session.deleteVariable('pick3');
    await letGoOf('CHOICE3');
    await session.delete();
    await letGoOf('CHOICE\\d+');
    await letGoOf('SHAPE');
  }, 30_000);

  it('holds at most its budget of the constraints of sessions served elsewhere, and nothing once they are deleted', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets);
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    // What other nodes of the cluster write for the sessions they serve: 16 records of 8,000 options (some 420 KB
    // each as JSON, under the default record limit), well over the budget in all.
    const options = 8000;
    const write = async (): Promise<void> => {
      for (let i = 0; i < 16; i++) {
        const choices = optionsOf(`FAR${i}`, options);
        const at = new Date().toISOString();
        const record = createVariableRecord({
          id: `far-${i}`,
          name: 'pick',
          type: 'choice',
          value: choices[0],
          options: { constraints: { choices } },
          at,
        });
        await kv.put(`elsewhere${i}.pick`, JSON.stringify(record));
      }
    };
    await write();
    // The last one written is kept once the node has read it: its router reads every session's records.
    await waitFor(async () => (await liveStrings(optionsMarked('FAR15'))) > 0, { timeout: 10_000, interval: 100 });
    expect(node.sessionIds()).toEqual([]);

    // Each option takes its length and 3 characters in the constraints' JSON: the budget holds no more options, some
    // 82,000 of the 128,000 written.
    const held = await liveStrings(optionsMarked('FAR\\d+'));
    expect(held).toBeLessThanOrEqual(STORED_CONSTRAINTS_BUDGET_BYTES / (48 + 3));

    // Removed there (a variable's delete, a session's purge), nothing of them is left here either.
    for (let i = 0; i < 16; i++) await (i % 2 === 0 ? kv.delete(`elsewhere${i}.pick`) : kv.purge(`elsewhere${i}.pick`));
    await letGoOf('FAR\\d+');
  }, 30_000);
});
