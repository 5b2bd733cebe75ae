/**
 * The warnings Node emits on `process` during each test (a `MaxListenersExceededWarning`, say), for tests that hold
 * that none is printed.
 * @module
 */
import { afterEach, beforeEach } from 'vitest';

/**
 * Listens for `process` warnings from each test's start to its end; the returned function resolves with those of the
 * current test as `Name: message`, once the warnings due have come (Node emits them on the next tick).
 */
export function useProcessWarnings(): () => Promise<string[]> {
  let warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  return async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return warnings;
  };
}
