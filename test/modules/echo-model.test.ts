import { ax } from '@ax-llm/ax';
import { describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { createEchoService } from '../../src/modules/echo-model.js';

describe('tether-echo service', () => {
  it('fills every output field of a signature from the request it received', async () => {
    const service = createEchoService('tether-echo');
    const program = ax('question:string -> answer:string, confidence:number');
    const output = await program.forward(service, { question: 'why?' }, { modelConfig: { temperature: 0.3 } });
    expect(output.answer).toContain('[tether-echo]');
    expect(output.answer).toContain('why?');
    expect(output.answer).toContain('temperature=0.3');
    expect(output.confidence).toBe(0);
  });

  it('answers a request for a billion samples with at most 32, and a nonsense count with one', async () => {
    const service = createEchoService('tether-echo');
    const ask = async (n: unknown) =>
      (
        await service.chat({
          chatPrompt: [{ role: 'user', content: 'Question: q' }],
          modelConfig: { n } as never,
        })
      ).results as unknown[];
    // Unbounded, this built a billion-entry array and the node ran out of memory.
    expect(await ask(1e9)).toHaveLength(32);
    expect(await ask(Number.POSITIVE_INFINITY)).toHaveLength(32);
    expect(await ask(3)).toHaveLength(3);
    for (const n of [-3, 0, Number.NaN, '5', undefined]) expect(await ask(n)).toHaveLength(1);
  });

  it('keeps nothing per call, so a long-running node neither grows nor slows down with its executions', async () => {
    const service = createEchoService('tether-echo');
    const program = ax('question:string -> answer:string');
    for (let i = 0; i < 50; i++) await program.forward(service, { question: `q${i}` });
    // Ax's mock service, which the echo builds on, would hold 50 latency samples here (and sort them per call).
    expect(service.getMetrics().latency.chat.samples).toHaveLength(0);
  });

  // Found by a review: Refine's advice goes through an object made from the service (Object.create), on which the
  // service's `#private` fields could not be read: every Refine on the offline model failed with internal_error.
  it('runs a Refine module, whose advice reaches it through an object made from it', async () => {
    const runtime = await Runtime.start({ llm: createEchoModel() });
    try {
      const refine = await (
        await runtime.session('refined')
      ).module('r', {
        type: 'Refine',
        signature: 'question:string -> answer:string',
        rounds: 2,
        reward: () => 0,
      });
      const { output } = await refine.execute({ question: 'q' });
      expect(output.answer).toMatch(/^\[tether-echo\] Question: q /);
    } finally {
      await runtime.stop();
    }
  });
});
