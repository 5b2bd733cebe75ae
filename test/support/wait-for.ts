/**
 * Polls until a condition holds, for tests that wait on asynchronous effects (DOWN notices, restarts).
 * @module
 */

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (generous: a loaded 2-core CI machine is slow, and only a failure waits it out). @default 5000 */
  readonly timeout?: number;
  /** Milliseconds between polls. @default 5 */
  readonly interval?: number;
  /** Names the condition in the failure message. */
  readonly message?: string;
}

/**
 * Resolves with the first truthy value `predicate` returns; rejects after `timeout` ms. The predicate may be
 * async, and a throw counts as "not yet" so that assertions can be polled; the last error is the cause.
 * @example
 * const restarted = await waitFor(() => runtime.whereis('worker'));
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeout = 5000, interval = 5, message = 'condition' }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `waitFor: ${message} not met within ${timeout} ms`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
