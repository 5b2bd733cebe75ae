import { readFile } from 'node:fs/promises';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEchoModel } from '../src/index.js';
import { runBasicBinding } from '../examples/basic-binding.js';
import { runDynamicModule } from '../examples/dynamic-module.js';
import { runPipeline } from '../examples/pipeline.js';
import { natsTargetFromEnv, type NatsTarget } from '../examples/scenario-runtime.js';
import { runSyncCallbacks } from '../examples/sync-callbacks.js';
import type { Log, ScenarioOptions } from '../examples/trace.js';
import { runVariablesScenario } from '../examples/variables.js';
import { startCli } from './support/cli-process.js';
import { startNatsServer, type NatsTestServer } from './support/nats-server.js';

let server: NatsTestServer;
let target: NatsTarget;

beforeAll(async () => {
  server = await startNatsServer();
  target = { ...natsTargetFromEnv({ NATS_URL: server.url })!, runId: 'test' };
});

afterAll(async () => {
  await server?.stop();
});

/** Runs a scenario over NATS (a node started by the scenario, the remote client) on the offline model. */
async function linesOf(
  run: (log: Log, options: ScenarioOptions) => Promise<void>,
  nats: NatsTarget = target,
): Promise<string[]> {
  const lines: string[] = [];
  await run((line) => lines.push(line), { llm: createEchoModel(), nats });
  return lines;
}

describe('examples over NATS', () => {
  it('run the demo scenarios through a node and the remote client, with the embedded results', async () => {
    const variables = await linesOf(runVariablesScenario);
    expect(variables).toContain('  watch: temperature 0.7 → 0.9 (v2)');
    expect(variables).toContain('refused: validation_failed: temperature: value 2.5 is above maximum 2');

    const basic = await linesOf(runBasicBinding);
    expect(basic.find((l) => l.startsWith('answer 2:'))).toContain('temperature=1.2 maxTokens=256');
    expect(basic.find((l) => l.startsWith('answer 3:'))).toContain('temperature=1.2 maxTokens=64');
    // Module states arrive as NATS events; the first execution's whole cycle is traced.
    expect(basic.filter((l) => l.startsWith('  qa: ')).slice(0, 4)).toEqual([
      '  qa: idle → syncing',
      '  qa: synced as ChainOfThought, nothing changed',
      '  qa: syncing → executing',
      '  qa: executing → idle',
    ]);

    const dynamic = await linesOf(runDynamicModule);
    expect(dynamic).toContain('execution 1: module solver is ChainOfThought');
    expect(dynamic).toContain('execution 2: module solver is ReAct');
    expect(dynamic).toContain('one module throughout: solver has completed 2 executions, type now ReAct');

    const callbacks = await linesOf(runSyncCallbacks);
    const start = callbacks.indexOf('temperature history (3 changes):');
    expect(callbacks.slice(start + 1, start + 4)).toEqual(['  1. 0.7 → 0.3', '  2. 0.3 → 0.9', '  3. 0.9 → 1.5']);
    expect(callbacks).toContain('seed API: syncVariables() → {"temperature":[1.5,0.5]}');

    const pipeline = await linesOf(runPipeline);
    const stages = pipeline.filter((l) => /^\d\. /.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    expect(stages).toEqual(['1. understand (Predict)', '2. reason (ChainOfThought)', '3. summarize (Predict)']);
    expect(pipeline.find((l) => l.startsWith('provenance:'))).toBe(
      'provenance: understand {"understand_temperature":2}; reason {"reason_temperature":2,"reasoning_module":2}; summarize {"summary_max_tokens":2}',
    );

    // Its own buckets only, those of its prefix (as `tether serve --prefix tether-demo` opens them): a deployment's
    // nodes on the same server never see the demo's sessions or modules.
    const nc = await connect({ servers: server.url });
    try {
      const streams = (await (await nc.jetstreamManager()).streams.list().next()).map((info) => info.config.name);
      expect(streams.sort()).toEqual(['KV_tether-demo_modules', 'KV_tether-demo_sessions', 'KV_tether-demo_vars']);
    } finally {
      await nc.close();
    }
  });

  // Found by the README audit: the README's join command had no --tools, and the scenarios whose modules name the
  // planet lookup failed whenever a request woke one on the joined node ("unknown tool 'planetFacts'").
  it('run with the node the README says joins them, started as the README says', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const command = /`tether (serve --prefix tether-demo[^`]*)`/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const joined = startCli(command!.split(' '), { NATS_URL: server.url });
    await joined.until('stdout', /node serving on/);
    try {
      // Requests spread over both nodes: with a dozen of them, some wake the modules on the joined node.
      const nats = { ...target, runId: 'joined' };
      expect(await linesOf(runDynamicModule, nats)).toContain('execution 2: module solver is ReAct');
      const stages = (await linesOf(runPipeline, nats)).filter((l) => /^\d\. /.test(l));
      expect(stages.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
        '1. understand (Predict)',
        '2. reason (ChainOfThought)',
        '3. summarize (Predict)',
      ]);
    } finally {
      await joined.stop('SIGINT');
    }
  });
});
