/**
 * Scenario 3, sync callbacks: a callback on the temperature binding is told `(attribute, old, new)` whenever a
 * sync finds a new value, here to keep a temperature history across three changes. Callbacks run at sync time,
 * that is when the module next executes, so each change is followed by an execution; two changes between
 * executions would be reported once, from the value last used to the latest.
 * @module
 */
import { VariableAwareChainOfThought } from '../src/index.js';
import {
  scenarioModel,
  show,
  startRuntime,
  traceModule,
  traceVariables,
  type Log,
  type ScenarioOptions,
  type TracedModule,
} from './trace.js';

/** One entry of the history the callback keeps. */
export interface TemperatureChange {
  readonly attribute: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
}

/** Runs the scenario, printing each step through `log`. */
export async function runSyncCallbacks(log: Log = console.log, options: ScenarioOptions = {}): Promise<void> {
  const llm = scenarioModel(options);
  const runtime = await startRuntime({ ...options, llm });
  try {
    const session = await runtime.session('sync-callbacks');
    await traceVariables(session, log);
    await session.defineVariable('llm_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });

    const history: TemperatureChange[] = [];
    // Runs inside the module's sync, before the LLM call: keep it quick and never let it throw.
    const onChange = (attribute: string, oldValue: unknown, newValue: unknown): void => {
      history.push({ attribute, oldValue, newValue });
      log(`  callback: ${attribute} ${show(oldValue)} → ${show(newValue)}`);
    };
    const spec = { type: 'Predict', signature: 'topic:string -> tagline:string' } as const;
    // A callback is a function, so it cannot travel in a spec: over NATS the module is bound by name and the
    // same callback runs on its `module.synced` events, which carry each sync's changes as [old, new].
    const writer = runtime.remote
      ? await session.module('writer', { ...spec, bindings: { temperature: 'llm_temperature' } })
      : await session.module('writer', {
          ...spec,
          bindings: { temperature: { variable: 'llm_temperature', onChange } },
        });
    if (runtime.remote) {
      const traced: TracedModule = writer;
      traced.on('module.synced', ({ outcome }) => {
        const change = outcome.changes.temperature;
        if (change) onChange('temperature', change[0], change[1]);
      });
    }
    await traceModule(writer, log);

    // The first execution syncs the value the binding already read at creation: no change, no callback.
    const baseline = await writer.execute({ topic: 'a lighthouse' });
    log(`tagline at 0.7: ${show(baseline.output.tagline, 200)}`);

    for (const temperature of [0.3, 0.9, 1.5]) {
      await session.setVariable('llm_temperature', temperature, { updatedBy: 'schedule' });
      const result = await writer.execute({ topic: 'a lighthouse' });
      log(`tagline at ${temperature}: ${show(result.output.tagline, 200)}`);
    }

    log(`temperature history (${history.length} changes):`);
    history.forEach((entry, i) => log(`  ${i + 1}. ${show(entry.oldValue)} → ${show(entry.newValue)}`));

    // The same binding with the original design's class API, outside any process: the caller decides when to
    // sync, and syncVariables() returns what changed as { attribute: [old, new] }.
    const cot = new VariableAwareChainOfThought('topic:string -> tagline:string', { session, llm });
    await cot.bindToVariable('temperature', 'llm_temperature', (attribute, oldValue, newValue) =>
      log(`  seed-API callback: ${attribute} ${show(oldValue)} → ${show(newValue)}`),
    );
    await session.setVariable('llm_temperature', 0.5, { updatedBy: 'schedule' });
    log(`seed API: syncVariables() → ${show(await cot.syncVariables())}`);
    await runtime.settle();
  } finally {
    await runtime.stop();
  }
}
