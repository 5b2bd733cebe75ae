/**
 * Session variables, embedded: typed and constrained values, watchers, a refused write, compare-and-set,
 * history and rollback, and a lock.
 * @module
 */
import { BridgeError } from '../src/index.js';
import { startRuntime, traceVariables, type Log, type ScenarioOptions } from './trace.js';

/** Runs the scenario, printing each step through `log`. */
export async function runVariablesScenario(log: Log = console.log, options: ScenarioOptions = {}): Promise<void> {
  const runtime = await startRuntime(options);
  try {
    const session = await runtime.session('demo');
    await traceVariables(session, log);

    await session.defineVariable('temperature', 'float', 0.7, {
      constraints: { min: 0, max: 2 },
      description: 'sampling temperature',
    });
    await session.defineVariable('style', 'choice', 'terse', { constraints: { choices: ['terse', 'verbose'] } });
    log('defined temperature (float 0..2) and style (choice)');

    await session.setVariable('temperature', 0.9, { updatedBy: 'tuner', reason: 'more variety' });
    try {
      await session.setVariable('temperature', 2.5);
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      log(`refused: ${error.code}: ${error.message}`);
    }

    const current = await session.describeVariable('temperature');
    await session.setVariable('temperature', 1.1, { expectedVersion: current.version });
    try {
      await session.setVariable('temperature', 1.3, { expectedVersion: current.version });
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      log(`compare-and-set refused: ${error.message}`);
    }

    const history = await session.variableHistory('temperature');
    log(`history: ${history.map((h) => `v${h.version}=${h.value}`).join(', ')}`);
    await session.rollbackVariable('temperature', 1);

    await session.lockVariable('style', 'alice');
    try {
      await session.setVariable('style', 'verbose', { updatedBy: 'bob' });
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      log(`locked: ${error.message}`);
    }
    await runtime.settle();
  } finally {
    await runtime.stop();
  }
}
