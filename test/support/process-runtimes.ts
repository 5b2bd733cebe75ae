/**
 * One copy of the runtime-test setup: a factory of ProcessRuntimes that are all stopped after each test.
 */
import { afterEach } from 'vitest';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../../src/runtime/index.js';

/**
 * Call at the top of a test file; returns the factory. Runtimes report crashes nowhere unless `onError` is given,
 * since the tests that care about crashes pass their own.
 */
export function useProcessRuntimes(): (options?: ProcessRuntimeOptions) => ProcessRuntime {
  const runtimes: ProcessRuntime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stopAll()));
  });
  return (options = {}) => {
    const runtime = new ProcessRuntime({ onError: () => {}, ...options });
    runtimes.push(runtime);
    return runtime;
  };
}
