import { describe, expect, it } from 'vitest';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('pot-steps');

describe('ProgramOfThought steps', () => {
  it('takes maxSteps as the most turns its actor gets, so a model that never finishes costs a bounded number of calls', async () => {
    // A model that never writes the code that ends the program: every turn runs until the bound.
    stub().fallback = () => text('Answer: x');
    const calls = async (extra: object, id: string): Promise<number> => {
      const before = stub().chatRequests.length;
      const pot = await session().module(id, {
        type: 'ProgramOfThought',
        signature: 'question:string -> answer:string',
        ...extra,
      });
      await pot.execute({ question: 'q' });
      return stub().chatRequests.length - before;
    };
    const two = await calls({ maxSteps: 2 }, 'two');
    const three = await calls({ maxSteps: 3 }, 'three');
    const eight = await calls({ maxSteps: 8 }, 'eight');
    const unbounded = await calls({}, 'unbounded');
    // A turn more, calls more; without a bound, Ax's own (8 turns). How many calls a turn makes is Ax's business.
    expect(two).toBeLessThan(three);
    expect(three).toBeLessThan(unbounded);
    expect(unbounded).toBe(eight);
  });
});

describe('ProgramOfThought instructions', () => {
  it('sends its bound instructions with every request of a run, the code-writing turns and the answer alike', async () => {
    stub().fallback = () => text('Answer: x');
    await session().defineVariable('style', 'string', 'Reply as PIRATE_STYLE.');
    const pot = await session().module('styled', {
      type: 'ProgramOfThought',
      signature: 'question:string -> answer:string',
      maxSteps: 1,
      bindings: { instructions: 'style' },
    });
    const before = stub().chatRequests.length;
    await pot.execute({ question: 'q' });
    const requests = stub().chatRequests.slice(before);
    // A turn that writes code, and the answer written from it: two kinds of request, each told the instructions.
    expect(requests.length).toBeGreaterThanOrEqual(2);
    const told = requests.map((request) => JSON.stringify(request.body.messages).includes('PIRATE_STYLE'));
    expect(told).toEqual(requests.map(() => true));
  });
});
