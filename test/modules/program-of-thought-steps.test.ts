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
    const unbounded = await calls({}, 'unbounded');
    // A turn more, calls more; without a bound, Ax's own (10 turns). How many calls a turn makes is Ax's business.
    expect(two).toBeLessThan(three);
    expect(three).toBeLessThan(unbounded);
  });
});
