import { describe, expect, it } from 'vitest';
import { createEchoModel, createLanguageModel } from '../src/index.js';
import { runBasicBinding } from '../examples/basic-binding.js';
import { runDynamicModule } from '../examples/dynamic-module.js';
import { runPipeline } from '../examples/pipeline.js';
import { runSyncCallbacks } from '../examples/sync-callbacks.js';
import { runVariablesScenario } from '../examples/variables.js';
import { OpenAIStub, text, toolCall } from './support/openai-stub.js';

/** Runs a scenario on the offline model (whatever TETHER_AI says) and returns its lines. */
async function linesOf(
  run: (log: (line: string) => void, options: { llm: ReturnType<typeof createEchoModel> }) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  await run((line) => lines.push(line), { llm: createEchoModel() });
  return lines;
}

const line = (lines: readonly string[], prefix: string): string => {
  const found = lines.find((l) => l.startsWith(prefix));
  expect(found, `a line starting with '${prefix}' in:\n${lines.join('\n')}`).toBeDefined();
  return found as string;
};

describe('examples', () => {
  it('variables: traces every write and reports the refusals', async () => {
    const lines = await linesOf((log) => runVariablesScenario(log));
    expect(lines).toContain('  watch: temperature 0.7 → 0.9 (v2)');
    expect(line(lines, 'refused:')).toContain('above maximum 2');
  });

  it('basic binding: the execution after a variable change uses the new temperature', async () => {
    const lines = await linesOf(runBasicBinding);
    expect(line(lines, 'answer 1:')).toContain('temperature=0.7 maxTokens=256');
    expect(line(lines, 'answer 2:')).toContain('temperature=1.2 maxTokens=256');
    expect(line(lines, 'refused:')).toContain('value 3.5 is above maximum 2');
    expect(line(lines, 'answer 3:')).toContain('temperature=1.2 maxTokens=64');
    // The change is traced live, before the module's sync that picks it up.
    const watched = lines.indexOf('  watch: llm_temperature 0.7 → 1.2 (v2)');
    const synced = lines.indexOf('  qa: synced as ChainOfThought, temperature 0.7 → 1.2');
    expect(watched).toBeGreaterThan(-1);
    expect(synced).toBeGreaterThan(watched);
    const cycle = (synced: string) => [
      '  qa: idle → syncing',
      `  qa: synced as ChainOfThought, ${synced}`,
      '  qa: syncing → executing',
      '  qa: executing → idle',
    ];
    expect(lines.filter((l) => l.startsWith('  qa: '))).toEqual([
      ...cycle('nothing changed'),
      ...cycle('temperature 0.7 → 1.2'),
      ...cycle('maxTokens 256 → 64'),
    ]);
  });

  it('dynamic module: the second execution is ReAct with the same module id', async () => {
    const lines = await linesOf(runDynamicModule);
    expect(lines).toContain('execution 1: module solver is ChainOfThought');
    expect(lines).toContain('execution 2: module solver is ReAct');
    expect(lines).toContain('  solver: synced as ReAct, type ChainOfThought → ReAct');
    expect(lines).toContain('one module throughout: solver has completed 2 executions, type now ReAct');
  });

  it('dynamic module: ReAct calls the lookup tool when the provider asks for it', async () => {
    // A local OpenAI-protocol server drives the real Ax provider: ChainOfThought answers, then ReAct calls the tool twice.
    const stub = await OpenAIStub.start();
    try {
      stub.reply(
        text('Reasoning: Jupiter has many moons.\nAnswer: many more'),
        toolCall('planetFacts', { planet: 'Jupiter' }),
        toolCall('planetFacts', { planet: 'Mars' }),
        text('Answer: 93 more'),
      );
      const lines: string[] = [];
      const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
      await runDynamicModule((l) => lines.push(l), { llm });
      expect(lines).toContain('  tool: planetFacts(Jupiter) → {"moons":95,"dayHours":9.9}');
      expect(lines).toContain('  tool: planetFacts(Mars) → {"moons":2,"dayHours":24.6}');
      expect(lines).toContain('  tool calls: 2');
      expect(lines).toContain('execution 2: module solver is ReAct');
      expect(line(lines, '  answer:')).toBe('  answer: many more');
      expect(lines.filter((l) => l.startsWith('  answer:')).at(-1)).toBe('  answer: 93 more');
      // ChainOfThought offers no tools; the ReAct requests do.
      expect(stub.chatRequests[0]?.body.tools).toBeUndefined();
      expect(stub.chatRequests[1]?.body.tools).toHaveLength(1);
    } finally {
      await stub.close();
    }
  });

  it('sync callbacks: the history has exactly the three changes, old → new', async () => {
    const lines = await linesOf(runSyncCallbacks);
    const start = lines.indexOf('temperature history (3 changes):');
    expect(start).toBeGreaterThan(-1);
    expect(lines.slice(start + 1, start + 5)).toEqual([
      '  1. 0.7 → 0.3',
      '  2. 0.3 → 0.9',
      '  3. 0.9 → 1.5',
      '  watch: llm_temperature 1.5 → 0.5 (v5)',
    ]);
    expect(lines.filter((l) => l.startsWith('  callback:'))).toHaveLength(3);
    // The class API of the original design reports the same kind of change from syncVariables().
    expect(lines).toContain('seed API: syncVariables() → {"temperature":[1.5,0.5]}');
    expect(lines).toContain('  seed-API callback: temperature 1.5 → 0.5');
    expect(line(lines, 'tagline at 1.5:')).toContain('temperature=1.5');
  });

  it('pipeline: one atomic batch configures it and the three modules run in order, outputs feeding inputs', async () => {
    const lines = await linesOf(runPipeline);
    expect(line(lines, 'batch refused, nothing written:')).toContain('summary_max_tokens');
    // The refused batch wrote nothing: the first write each variable sees is the accepted batch (v2).
    expect(lines.filter((l) => l.startsWith('  watch:'))).toEqual([
      '  watch: understand_temperature 0.7 → 0.1 (v2)',
      '  watch: reason_temperature 0.7 → 0.4 (v2)',
      '  watch: summary_max_tokens 512 → 120 (v2)',
      '  watch: reasoning_module Predict → ChainOfThought (v2)',
    ]);
    const stages = lines.filter((l) => /^\d\. /.test(l));
    expect(stages.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      '1. understand (Predict)',
      '2. reason (ChainOfThought)',
      '3. summarize (Predict)',
    ]);
    const executing = lines.filter((l) => l.endsWith('syncing → executing')).map((l) => l.trim().split(':')[0]);
    expect(executing).toEqual(['understand', 'reason', 'summarize']);
    // The offline model echoes its inputs, so the summary carries every stage's parameters: the chain is intact.
    const summary = stages[2] as string;
    expect(summary).toContain('temperature=0.1');
    expect(summary).toContain('temperature=0.4');
    expect(summary).toContain('maxTokens=120');
  });
});
