import { describe, expect, it } from 'vitest';
import { type ModuleHandle, type Runtime } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';
import { useOpenAIStub, text } from '../support/openai-stub.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const stubbed = useOpenAIStub();
const llm = stubbed.llm;

async function localModule(runtime: Runtime, sessionId: string, moduleId: string): Promise<ModuleHandle | undefined> {
  try {
    return await (await runtime.session(sessionId)).module(moduleId);
  } catch {
    return undefined;
  }
}

describe('module failover', () => {
  it('serves later executions from node B after node A stops mid-load, losing none of the writes A accepted', async () => {
    stubbed.stub().fallback = () => text('Answer: ok');
    stubbed.stub().delayMs = 5;
    const buckets = fx().buckets();
    const a = await fx().runtime(buckets, { llm: llm() });
    const b = await fx().runtime(buckets, { llm: llm() });
    const client = await fx().client({ timeoutMs: 10_000 });
    const session = await client.session('failover');
    await session.defineVariable('llm_temperature', 'float', 0, { constraints: { min: 0, max: 2 } });
    await session.defineVariable('count', 'integer', 0);
    const qa = await session.module('qa', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
      maxRetries: 0,
    });
    // Both nodes run the module before the load starts, so each one's results can be counted on its own process.
    for (
      let i = 0;
      i < 200 && (!(await localModule(a, 'failover', 'qa')) || !(await localModule(b, 'failover', 'qa')));
      i++
    )
      await qa.execute({ question: 'warm' });
    const served = new Map<Runtime, number>([
      [a, 0],
      [b, 0],
    ]);
    for (const node of [a, b])
      (await localModule(node, 'failover', 'qa'))!.on('module.result', () => served.set(node, served.get(node)! + 1));

    // Each step writes (through whichever node), then executes: the execution must use at least that write.
    let updates = 0;
    let step = 0;
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      while (step < 240) {
        const n = step++;
        try {
          const written = await session.setVariable('llm_temperature', (n % 20) / 10);
          await session.updateVariable('count', (v) => (v as number) + 1);
          updates += 1;
          const result = await qa.execute({ question: `q${n}` });
          expect(result.provenance.llm_temperature).toBeGreaterThanOrEqual(written.version);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await waitFor(() => served.get(a)! > 10 && served.get(b)! > 10, {
      timeout: 20_000,
      message: 'both nodes executing',
    });
    await a.stop();
    const byA = served.get(a)!;
    const byB = served.get(b)!;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(served.get(a)).toBe(byA);
    expect(served.get(b)!).toBeGreaterThan(byB);
    expect(await session.getVariable('count')).toBe(updates);
    expect(updates).toBe(240);
    // Every accepted write is there, through whichever node took it: one version per set, after the definition.
    expect((await session.describeVariable('llm_temperature')).version).toBe(241);
    expect((await qa.describe()).state).toBe('idle');
  }, 60_000);
});
