import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

// Found by a review: a remote handle judged every input against its copy of the module's check, made when the handle
// was, and refused executions the node would run.
describe('a remote handle leaves to the node what its copy of the module may judge wrongly', () => {
  it('runs a Date-carrying execution with the hint of the type its type variable switched to', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets, { llm: createEchoModel() });
    const session = await (await fx().client()).session('typed-inputs');
    await session.defineVariable('kind', 'module', 'Predict');
    const spec = { typeVariable: 'kind', signature: 'question:string, day:date -> answer:string' };
    const qa = await session.module('qa', spec);
    // The client switches the type; its next execution gives the new type's extra input.
    await session.setVariable('kind', 'ChainOfThoughtWithHint');
    const day = new Date('2024-01-02T00:00:00Z');

    // The node's own (embedded) handle of the same module takes it: the type the variable names now has a hint.
    const embedded = await (await node.session('typed-inputs')).module('qa');
    expect((await embedded.execute({ question: 'q', hint: 'h', day })).moduleType).toBe('ChainOfThoughtWithHint');
    // The same inputs with the date as its text run through the remote handle too...
    expect((await qa.execute({ question: 'q', hint: 'h', day: '2024-01-02' })).moduleType).toBe(
      'ChainOfThoughtWithHint',
    );
    // ...and so do they with the Date itself: the handle judges only the date, and leaves the hint to the node.
    const outcome = await qa.execute({ question: 'q', hint: 'h', day }).then(
      (result) => result.moduleType,
      (error: Error) => `${(error as { code?: string }).code}: ${error.message}`,
    );
    expect(outcome).toBe('ChainOfThoughtWithHint');
  });

  it('judges no field JSON carries exactly against the type a description once gave', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: createEchoModel() });
    const session = await (await fx().client()).session('listed-inputs');
    await session.defineVariable('kind', 'module', 'Predict');
    await session.module('qa', { typeVariable: 'kind', signature: 'question:string, day:date -> answer:string' });
    const [qa] = await session.modules();
    const day = new Date('2024-01-02T00:00:00Z');
    // The first Date-carrying call: the handle describes the module (Predict then).
    expect((await qa!.execute({ question: 'q', day })).moduleType).toBe('Predict');
    await session.setVariable('kind', 'ChainOfThoughtWithHint');
    const outcome = await qa!.execute({ question: 'q', hint: 'h', day }).then(
      (result) => result.moduleType,
      (error: Error) => `${(error as { code?: string }).code}: ${error.message}`,
    );
    expect(outcome).toBe('ChainOfThoughtWithHint');
  });

  it('judges a Date again on a fresh description before it refuses it: the module may have been created again', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets, { llm: createEchoModel() });
    const client = await fx().client();
    const session = await client.session('recreated-inputs');
    const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
    // Another client replaces the module: same id, a signature with a date field.
    const other = await (await fx().client()).session('recreated-inputs');
    await (await other.module('qa')).stop();
    await other.module('qa', { type: 'Predict', signature: 'question:string, day:date -> answer:string' });
    // This client's handle reaches the new module (its own requests see it: a plain call runs)...
    expect((await qa.execute({ question: 'q', day: '2024-01-02' })).output).toBeDefined();
    // What a fresh description refuses too stands, and nothing is sent (the node would take the Date's text and run):
    // a Date in the string field.
    await expect(qa.execute({ question: new Date(0), day: '2024-01-02' })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { field: 'question' },
    });
    // A Date for the new date field runs: the old signature has no such field, the new one takes it.
    const outcome = await qa.execute({ question: 'q', day: new Date('2024-01-02T00:00:00Z') }).then(
      () => 'ran',
      (error: Error) => `${(error as { code?: string }).code}: ${error.message}`,
    );
    expect(outcome).toBe('ran');
  });
});
