/**
 * Scenario 2, dynamic module selection: the module's type is itself a session variable (`reasoning_module`, of
 * type `module`). Setting it from ChainOfThought to ReAct swaps the program at the next sync while the module
 * keeps its id, its bindings and its place in the session. ReAct gets one real tool, a lookup in a small local
 * table. The offline model never asks for tools, so there the tool log stays empty; a real provider calls it.
 * @module
 */
import type { ModuleTool } from '../src/index.js';
import {
  scenarioModel,
  show,
  startRuntime,
  traceModule,
  traceVariables,
  type Log,
  type ScenarioOptions,
} from './trace.js';

/** The table the tool reads: small and local, so the answer can be checked against it. */
const PLANETS: Readonly<Record<string, { readonly moons: number; readonly dayHours: number }>> = {
  mercury: { moons: 0, dayHours: 4223 },
  venus: { moons: 0, dayHours: 2802 },
  earth: { moons: 1, dayHours: 24 },
  mars: { moons: 2, dayHours: 24.6 },
  jupiter: { moons: 95, dayHours: 9.9 },
  saturn: { moons: 146, dayHours: 10.7 },
};

/** The ReAct tool; `onCall` sees every call, so a scenario can show when the LLM used it. */
export function planetFactsTool(onCall: (planet: unknown, facts: unknown) => void): ModuleTool {
  return {
    name: 'planetFacts',
    description: 'Looks up the number of moons and the length of a day (in hours) of a planet of the solar system',
    parameters: {
      type: 'object',
      properties: { planet: { type: 'string', description: 'the planet name, for example Mars' } },
      required: ['planet'],
    },
    func: ({ planet }) => {
      const facts = PLANETS[String(planet).trim().toLowerCase()] ?? { error: `no planet named ${String(planet)}` };
      onCall(planet, facts);
      return facts;
    },
  };
}

/** Runs the scenario, printing each step through `log`. */
export async function runDynamicModule(log: Log = console.log, options: ScenarioOptions = {}): Promise<void> {
  const llm = scenarioModel(options);
  let toolCalls = 0;
  const tool = planetFactsTool((planet, facts) => {
    toolCalls += 1;
    log(`  tool: planetFacts(${show(planet)}) → ${show(facts)}`);
  });
  // Over NATS the node is started with the tool and the module names it: a spec there is JSON.
  const runtime = await startRuntime({ ...options, llm }, [tool]);
  try {
    const session = await runtime.session('dynamic-module');
    await traceVariables(session, log);

    // allowedModules keeps the switch to types this module was written for (ReAct needs its tools).
    await session.defineVariable('reasoning_module', 'module', 'ChainOfThought', {
      constraints: { allowedModules: ['Predict', 'ChainOfThought', 'ReAct'] },
      description: 'how the solver reasons',
    });
    await session.defineVariable('llm_temperature', 'float', 0.2, { constraints: { min: 0, max: 2 } });

    const solver = await session.module('solver', {
      typeVariable: 'reasoning_module',
      signature: 'question:string -> answer:string',
      bindings: { temperature: 'llm_temperature' },
      // Given up front: they are only used once the type is ReAct, but a module cannot gain tools later.
      tools: runtime.toolRefs([tool]),
      maxSteps: 4,
    });
    await traceModule(solver, log);

    const question = { question: 'How many more moons does Jupiter have than Mars?' };
    const before = await solver.execute(question);
    log(`execution 1: module ${before.moduleId} is ${before.moduleType}`);
    log(`  answer: ${show(before.output.answer, 240)}`);

    await session.setVariable('reasoning_module', 'ReAct', {
      updatedBy: 'operator',
      reason: 'needs facts, not guesses',
    });
    const after = await solver.execute(question);
    log(`execution 2: module ${after.moduleId} is ${after.moduleType}`);
    log(`  answer: ${show(after.output.answer, 240)}`);
    log(`  used: ${show(after.provenance)}`);
    log(`  tool calls: ${toolCalls}${toolCalls === 0 && llm.offline ? ' (the offline model never calls tools)' : ''}`);

    const described = await solver.describe();
    log(
      // Its count says both executions ran on this one module: the swap happened inside it, not by a new module.
      `one module throughout: ${described.moduleId} has completed ${described.completed} executions, type now ${described.moduleType}`,
    );
    await runtime.settle();
  } finally {
    await runtime.stop();
  }
}
