import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  BestOfN,
  MultiChainComparison,
  VariableAwareBestOfN,
  VariableAwareMultiChainComparison,
  VariableAwareRefine,
  type RewardFunction,
} from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';
import { type RecordedRequest, text, useOpenAIStub } from '../support/openai-stub.js';

const SIGNATURE = 'question:string -> answer:string';
const { stub, llm } = useOpenAIStub();

/** Refine asks the LLM for advice between rounds; this tells those requests from the program's own. */
const isAdvice = (request: RecordedRequest): boolean =>
  JSON.stringify(request.body.messages).includes('actionable advice');

/** Answers Refine's advice requests with advice that changes nothing, and every other request with an answer. */
function answerRefine(): void {
  stub().fallback = (request) => (isAdvice(request) ? text('Summary: none\nAdvice: {}') : text('Answer: stub'));
}

afterEach(() => {
  stub().fallback = () => text('Answer: stub answer');
});

/** The reward attempts of each execution, and a reward that records them and scores each by its attempt number. */
function recordingReward(): { attempts: number[]; reward: RewardFunction } {
  const attempts: number[] = [];
  return { attempts, reward: ({ attempt }) => (attempts.push(attempt), attempt) };
}

/** The `n` of each program request (the OpenAI protocol's sample count), and then forgets them. */
function takeSampleCounts(): unknown[] {
  const counts = stub()
    .chatRequests.filter((request) => !isAdvice(request))
    .map((request) => request.body.n);
  stub().requests.length = 0;
  return counts;
}

describe('program parameters', () => {
  it('asks for as many BestOfN candidates as the bound n holds at each execution', async () => {
    const session = new FakeSession('best', { candidates: 2 });
    const { attempts, reward } = recordingReward();
    const best = new VariableAwareBestOfN(SIGNATURE, { session, llm: llm(), reward, maxRetries: 0 });
    await best.bindToVariable('n', 'candidates');
    const first = await best.forward({ question: 'q' });
    // Ax asks for all candidates in one request (the protocol's `n`) and scores each.
    expect(takeSampleCounts()).toEqual([2]);
    expect(attempts.splice(0)).toEqual([1, 2]);
    expect(first.provenance).toEqual({ candidates: 1 });
    await session.setVariable('candidates', 4);
    const second = await best.forward({ question: 'q' });
    expect(takeSampleCounts()).toEqual([4]);
    expect(attempts.splice(0)).toEqual([1, 2, 3, 4]);
    expect(second.provenance).toEqual({ candidates: 2 });
  });

  it('sends the bound MultiChainComparison samples as the request n, and compares that many', async () => {
    const session = new FakeSession('vote', { vote_samples: 2, temp: 0.4 });
    const compared: number[] = [];
    const vote = new VariableAwareMultiChainComparison(SIGNATURE, {
      session,
      llm: llm(),
      maxRetries: 0,
      samples: 5,
      n: 9, // BestOfN's, which a MultiChainComparison does not use
      pick: (samples) => (compared.push(samples.length), 0),
    });
    await vote.bindToVariable('samples', 'vote_samples');
    await vote.bindToVariable('temperature', 'temp');
    await vote.forward({ question: 'q' });
    const [body] = stub().chatRequests.map((request) => request.body);
    // The program parameters are no model options: only the sample count reaches the wire, as `n`.
    expect(body).toMatchObject({ n: 2, temperature: 0.4 });
    for (const key of ['samples', 'rounds', 'threshold']) expect(body, key).not.toHaveProperty(key);
    await session.setVariable('vote_samples', 7);
    await vote.forward({ question: 'q' });
    expect(takeSampleCounts()).toEqual([2, 7]);
    expect(compared).toEqual([2, 7]);
  });

  it('runs as many Refine rounds as the bound rounds holds, and stops at the bound threshold', async () => {
    answerRefine();
    const session = new FakeSession('refine', { refine_rounds: 2, good_enough: 100 });
    const { attempts, reward } = recordingReward();
    const refine = new VariableAwareRefine(SIGNATURE, { session, llm: llm(), reward, maxRetries: 0 });
    await refine.bindToVariable('rounds', 'refine_rounds');
    await refine.bindToVariable('threshold', 'good_enough');
    await refine.forward({ question: 'q' });
    expect(attempts.splice(0)).toEqual([1, 2]);
    expect(takeSampleCounts()).toEqual([1, 1]);
    await session.setVariable('refine_rounds', 4);
    await refine.forward({ question: 'q' });
    expect(attempts.splice(0)).toEqual([1, 2, 3, 4]);
    expect(takeSampleCounts()).toEqual([1, 1, 1, 1]);
    // The reward scores a candidate by its attempt number: the second one reaches a threshold of 2.
    await session.setVariable('good_enough', 2);
    await refine.forward({ question: 'q' });
    expect(attempts.splice(0)).toEqual([1, 2]);
    expect(takeSampleCounts()).toEqual([1, 1]);
  });

  it('follows the attribute set directly, then the constructor option, then the default of 3', async () => {
    const vote = new MultiChainComparison(SIGNATURE, { llm: llm(), maxRetries: 0, samples: 4 });
    expect(vote.samples).toBe(4);
    await vote.forward({ question: 'q' });
    vote.samples = 2;
    await vote.forward({ question: 'q' });
    delete vote.samples;
    await vote.forward({ question: 'q' });
    await new MultiChainComparison(SIGNATURE, { llm: llm(), maxRetries: 0 }).forward({ question: 'q' });
    expect(takeSampleCounts()).toEqual([4, 2, 4, 3]);
    // Set directly, a count is checked at the execution, before anything is sent.
    vote.samples = 1e9;
    await expect(vote.forward({ question: 'q' })).rejects.toThrow(
      "module setting 'samples' must be an integer from 1 to 32, got 1000000000",
    );
    expect(stub().chatRequests).toEqual([]);
  });

  it('refuses a bound count out of its range at bind time and at sync, before any request', async () => {
    const session = new FakeSession('limits', { k: 2, zero: 0, many: 33, half: 2.5, word: 'lots', nan: Number.NaN });
    const errors: Error[] = [];
    const vote = new VariableAwareMultiChainComparison(SIGNATURE, {
      session,
      llm: llm(),
      maxRetries: 0,
      onSyncError: (error) => errors.push(error),
    });
    for (const variable of ['zero', 'many', 'half', 'word']) {
      await expect(vote.bindToVariable('samples', variable), variable).rejects.toThrow(
        /^module setting 'samples' must be an integer from 1 to 32, got /,
      );
    }
    const { reward } = recordingReward();
    const refine = new VariableAwareRefine(SIGNATURE, { session, llm: llm(), reward });
    await expect(refine.bindToVariable('threshold', 'nan')).rejects.toThrow(/'threshold' must be a finite number/);
    await expect(refine.bindToVariable('rounds', 'many')).rejects.toBeInstanceOf(ValidationError);
    expect(vote.getBindings()).toEqual({});
    expect(refine.getBindings()).toEqual({});
    await vote.bindToVariable('samples', 'k');
    await session.setVariable('k', 33);
    await expect(vote.syncVariables()).rejects.toBeInstanceOf(ValidationError);
    expect(vote.samples).toBe(2);
    expect(stub().chatRequests).toEqual([]);
    // A sync before an execution that fails is reported, and the execution keeps the last good count.
    await vote.forward({ question: 'q' });
    expect(errors.map((error) => error.message)).toEqual([
      "module setting 'samples' must be an integer from 1 to 32, got 33 (held by variable 'k')",
    ]);
    expect(takeSampleCounts()).toEqual([2]);
  });
});

/** One answer of the provider with a choice per text, as a model sampled `n` times gives it. */
function sampled(...contents: string[]): void {
  const choices = contents.map((content, index) => ({
    index,
    message: { role: 'assistant', content },
    finish_reason: 'stop',
  }));
  const body = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices };
  stub().reply({ kind: 'raw', contentType: 'application/json', body: JSON.stringify(body) });
}

describe('MultiChainComparison without pick', () => {
  it('keeps the answer most of its samples give, the earliest of those tied', async () => {
    const vote = new MultiChainComparison('question:string -> answer:string, unit:string', {
      llm: llm(),
      maxRetries: 0,
      samples: 3,
    });
    const answers: unknown[] = [];
    for (const contents of [
      ['Answer: 5\nUnit: m', 'Answer: 7\nUnit: m', 'Answer: 7\nUnit: m'],
      ['Answer: 7\nUnit: m', 'Answer: 5\nUnit: m', 'Answer: 5\nUnit: m'],
      // Field order in the answer is no difference: the last two are one answer.
      ['Answer: 9\nUnit: s', 'Answer: 5\nUnit: m', 'Unit: m\nAnswer: 5'],
      // No majority: the first sample.
      ['Answer: 4\nUnit: m', 'Answer: 5\nUnit: m', 'Answer: 6\nUnit: m'],
    ]) {
      sampled(...contents);
      answers.push((await vote.forward({ question: 'q' })).output);
    }
    expect(answers).toEqual([
      { answer: '7', unit: 'm' },
      { answer: '5', unit: 'm' },
      { answer: '5', unit: 'm' },
      { answer: '4', unit: 'm' },
    ]);
  });
});

describe('BestOfN threshold', () => {
  it('keeps the first candidate that reaches it rather than the best, all of them scored from one request', async () => {
    const scored: number[] = [];
    const best = new BestOfN(SIGNATURE, {
      llm: llm(),
      maxRetries: 0,
      n: 4,
      reward: ({ prediction }) => {
        scored.push(Number(prediction.answer));
        return Number(prediction.answer);
      },
    });
    const candidates = ['Answer: 1', 'Answer: 5', 'Answer: 3', 'Answer: 10'];
    sampled(...candidates);
    expect((await best.forward({ question: 'q' })).output).toEqual({ answer: '10' });
    best.threshold = 3;
    sampled(...candidates);
    expect((await best.forward({ question: 'q' })).output).toEqual({ answer: '5' });
    expect(scored).toEqual([1, 5, 3, 10, 1, 5, 3, 10]);
    expect(stub().chatRequests.map((request) => request.body.n)).toEqual([4, 4]);
  });
});
