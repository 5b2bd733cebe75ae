/**
 * Scenario 1, basic binding: a ChainOfThought module whose temperature and max tokens are bound to session
 * variables. Changing a variable needs no call on the module: the next execution re-syncs and sends the new
 * value to the LLM. On the offline model (`tether-echo`) the answer repeats the parameters the call received,
 * which makes the effect visible; on a real provider the answer is the model's.
 * @module
 */
import { BridgeError } from '../src/index.js';
import { traceModule, traceVariables, show, startRuntime, type Log, type ScenarioOptions } from './trace.js';

/** Runs the scenario, printing each step through `log`. */
export async function runBasicBinding(log: Log = console.log, options: ScenarioOptions = {}): Promise<void> {
  const runtime = await startRuntime(options);
  try {
    const session = await runtime.session('basic-binding');
    await traceVariables(session, log);

    // Constraints make the variables safe to expose: a tuner (or a NATS client) cannot push 5.0 into the LLM.
    await session.defineVariable('llm_temperature', 'float', 0.7, {
      constraints: { min: 0, max: 2 },
      description: 'sampling temperature of the qa module',
    });
    await session.defineVariable('llm_max_tokens', 'integer', 256, {
      constraints: { min: 16, max: 4096 },
      description: 'completion budget of the qa module',
    });

    const qa = await session.module('qa', {
      type: 'ChainOfThought',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature', maxTokens: 'llm_max_tokens' },
    });
    await traceModule(qa, log);
    log('module qa: ChainOfThought, temperature ← llm_temperature, maxTokens ← llm_max_tokens');

    const question = { question: 'In one sentence, why is the sky blue?' };
    const first = await qa.execute(question);
    log(`answer 1: ${show(first.output.answer)}`);
    // Provenance says which version of each variable this answer was produced with.
    log(`  used: ${show(first.provenance)}`);

    await session.setVariable('llm_temperature', 1.2, { updatedBy: 'tuner', reason: 'more creative answers' });
    const second = await qa.execute(question);
    log(`answer 2: ${show(second.output.answer)}`);
    log(`  used: ${show(second.provenance)}`);

    // A value outside the constraints is refused at the write, so no execution ever runs with it.
    try {
      await session.setVariable('llm_temperature', 3.5);
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      log(`refused: ${error.message}`);
    }
    await session.setVariable('llm_max_tokens', 64, { updatedBy: 'tuner', reason: 'shorter answers' });
    const third = await qa.execute(question);
    log(`answer 3: ${show(third.output.answer)}`);
    log(`  used: ${show(third.provenance)}`);

    await runtime.settle();
  } finally {
    await runtime.stop();
  }
}
