/**
 * Scenario 4, a batch-configured pipeline: understand → reason → summarize, three module processes of one
 * session, each output feeding the next input. One atomic `setVariables` configures the whole pipeline, so no
 * execution can ever see half a configuration; the reasoning step's type comes from a `module` variable, so the
 * batch also decides how the pipeline reasons.
 * @module
 */
import { BridgeError, type SessionApi } from '../src/index.js';
import { planetFactsTool } from './dynamic-module.js';
import { traceModule, traceVariables, show, startRuntime, type Log, type ScenarioOptions } from './trace.js';

/** Defines the pipeline's knobs with safe defaults; the batch below sets their real values. */
async function defineConfiguration(session: SessionApi): Promise<void> {
  await session.defineVariable('understand_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  await session.defineVariable('reason_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  await session.defineVariable('summary_max_tokens', 'integer', 512, { constraints: { min: 16, max: 4096 } });
  await session.defineVariable('reasoning_module', 'module', 'Predict', {
    constraints: { allowedModules: ['Predict', 'ChainOfThought', 'ReAct'] },
  });
}

/** Runs the scenario, printing each step through `log`. */
export async function runPipeline(log: Log = console.log, options: ScenarioOptions = {}): Promise<void> {
  const tool = planetFactsTool((planet, facts) => log(`  tool: planetFacts(${show(planet)}) → ${show(facts)}`));
  const runtime = await startRuntime(options, [tool]);
  try {
    const session = await runtime.session('pipeline');
    await defineConfiguration(session);
    // Watching starts after the defaults so the trace shows the batch, which is the point of the scenario.
    await traceVariables(session, log);

    // All or nothing: the out-of-range max tokens refuses the whole batch and the temperatures stay as they were.
    try {
      await session.setVariables({ understand_temperature: 0.1, summary_max_tokens: 100_000 }, { atomic: true });
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      log(`batch refused, nothing written: ${error.message}`);
    }
    await session.setVariables(
      {
        understand_temperature: 0.1,
        reason_temperature: 0.4,
        summary_max_tokens: 120,
        reasoning_module: 'ChainOfThought',
      },
      { atomic: true, updatedBy: 'config', reason: 'pipeline profile "careful"' },
    );
    log('configured in one atomic batch');

    const understand = await session.module('understand', {
      type: 'Predict',
      signature: 'question:string -> restatedQuestion:string, keyFacts:string',
      bindings: { temperature: 'understand_temperature' },
    });
    const reason = await session.module('reason', {
      typeVariable: 'reasoning_module',
      signature: 'restatedQuestion:string, keyFacts:string -> analysis:string',
      bindings: { temperature: 'reason_temperature' },
      // Needed only if the batch picks ReAct; the type variable allows it.
      tools: runtime.toolRefs([tool]),
    });
    const summarize = await session.module('summarize', {
      type: 'Predict',
      signature: 'question:string, analysis:string -> summary:string',
      bindings: { maxTokens: 'summary_max_tokens' },
    });
    for (const stage of [understand, reason, summarize]) await traceModule(stage, log);

    const question = 'Which planet has the shortest day, and roughly how long is it?';
    const understood = await understand.execute({ question });
    log(`1. understand (${understood.moduleType}): ${show(understood.output.restatedQuestion)}`);

    const reasoned = await reason.execute({
      restatedQuestion: understood.output.restatedQuestion,
      keyFacts: understood.output.keyFacts,
    });
    log(`2. reason (${reasoned.moduleType}): ${show(reasoned.output.analysis)}`);

    const summarized = await summarize.execute({ question, analysis: reasoned.output.analysis });
    log(`3. summarize (${summarized.moduleType}): ${show(summarized.output.summary, 240)}`);

    // Every stage reports the variable versions it ran with: all from the batch (version 2), none from the defaults.
    log(
      `provenance: ${[understood, reasoned, summarized].map((r) => `${r.moduleId} ${show(r.provenance)}`).join('; ')}`,
    );
    await runtime.settle();
  } finally {
    await runtime.stop();
  }
}
