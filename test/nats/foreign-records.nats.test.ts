import { describe, expect, it } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/**
 * Nothing but nodes may write the variables bucket; found by a review: one message put there by something else made
 * the session impossible to open on any other node (an `internal_error` naming nothing), and on the node that heard
 * it, a record without a name joined the session.
 */
describe('a message in the variables bucket that is no variable record', () => {
  it('is left out of its session, told to onError naming its key, and the session is served on every node', async () => {
    const buckets = fx().buckets();
    const toldA: string[] = [];
    const toldB: string[] = [];
    const tell = (told: string[]) => (error: unknown) => told.push((error as Error).message);
    const a = await fx().runtime(buckets, { onError: tell(toldA) });
    const onA = await a.session('g1');
    await onA.defineVariable('good', 'integer', 1);
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    await kv.put('g1.garbage', enc.encode('not json'));
    await kv.put('g1.foreign', enc.encode('{"hello":1}'));
    // A whole record, under another variable's key: it would be a second variable named `good`.
    await kv.put('g1.alias', (await kv.get('g1.good'))!.value);
    await waitFor(() => toldA.length >= 3, { message: 'node A told of all three' });
    expect(toldA.join('\n')).toMatch(
      /store key 'g1\.alias' holds a value that cannot be read: malformed variable record: it names variable 'good'/,
    );
    expect(toldA.join('\n')).toMatch(
      /store key 'g1\.foreign' holds a value that cannot be read: malformed variable record: no name, type, version, id and constraints/,
    );
    expect((await onA.listVariables()).map((record) => record.name)).toEqual(['good']);

    const b = await fx().runtime(buckets, { onError: tell(toldB) });
    const onB = await b.session('g1');
    expect((await onB.listVariables()).map((record) => record.name)).toEqual(['good']);
    expect(await onB.setVariable('good', 2)).toMatchObject({ value: 2, version: 2 });
    expect(toldB.join('\n')).toMatch(/store key 'g1\.garbage' holds a value that cannot be read/);
    expect(toldB.join('\n')).toMatch(/store key 'g1\.alias' holds a value that cannot be read/);
    expect(toldB.join('\n')).toMatch(
      /store key 'g1\.foreign' holds a value that cannot be read: malformed variable record: no name, type, version, id and constraints/,
    );
  });
});

// Found by a review: put over a variable, such a message left the node that had it serving the old value while a
// node that loaded the session left it out, and every set, delete or define of the name failed on the message.
describe('a message that is no variable record, put over an existing variable', () => {
  it('leaves the variable out on every node, and its name can be defined again', async () => {
    const buckets = fx().buckets();
    const told: string[] = [];
    const a = await fx().runtime(buckets, { onError: (error) => told.push((error as Error).message) });
    const onA = await a.session('o1');
    await onA.defineVariable('x', 'integer', 1);
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    await kv.put('o1.x', enc.encode('not json'));
    await waitFor(
      () => told.some((message) => message.includes("store key 'o1.x' holds a value that cannot be read")),
      {
        message: 'node A told of o1.x',
      },
    );
    await waitFor(async () => !(await onA.hasVariable('x')), { message: 'node A leaves x out' });
    const onB = await (await fx().runtime(buckets)).session('o1');
    expect(await onB.hasVariable('x')).toBe(false);
    expect(await settledCode(onA.setVariable('x', 2))).toBe('variable_not_found');
    expect(await settledCode(onB.deleteVariable('x'))).toBe('variable_not_found');
    expect(await onB.defineVariable('x', 'integer', 7)).toMatchObject({ value: 7, version: 1 });
    await waitFor(async () => (await onA.getVariable('x')) === 7, { message: 'node A serves the new x' });
    expect(await onA.setVariable('x', 8)).toMatchObject({ value: 8, version: 2 });
  });
});
