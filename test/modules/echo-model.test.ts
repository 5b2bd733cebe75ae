import { ax } from '@ax-llm/ax';
import { describe, expect, it } from 'vitest';
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

  it('keeps nothing per call, so a long-running node neither grows nor slows down with its executions', async () => {
    const service = createEchoService('tether-echo');
    const program = ax('question:string -> answer:string');
    for (let i = 0; i < 50; i++) await program.forward(service, { question: `q${i}` });
    // Ax's mock service, which the echo builds on, would hold 50 latency samples here (and sort them per call).
    expect(service.getMetrics().latency.chat.samples).toHaveLength(0);
  });
});
