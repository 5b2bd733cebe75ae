/**
 * Calling a user's callback (a listener, a monitor, `onError`, an inspector) from inside the runtime. Typed as
 * returning nothing, it may still be an `async` function, and a promise it returns that rejects is an unhandled
 * rejection, which ends a Node 20 process: what a callback throws, either way, must reach the runtime's reporter,
 * never XState nor Node.
 * @module
 */

/**
 * Calls `callback`; what it throws, and what the promise it returns rejects with, go to `failed`. A `failed` that
 * throws on a rejection (it runs outside the caller's `try`) is logged: nothing else is left to tell.
 */
export function callUserCallback(callback: () => unknown, failed: (error: unknown) => void): void {
  let result: unknown;
  try {
    result = callback();
  } catch (error) {
    failed(error);
    return;
  }
  if (!isThenable(result)) return;
  result.then(undefined, (error: unknown) => {
    try {
      failed(error);
    } catch (reportError) {
      console.error('[tether] reporting a rejected callback failed:', reportError, 'rejection:', error);
    }
  });
}

/**
 * A reporter calling the user's `onError` (or, without one, logging to stderr): what `onError` throws or rejects
 * with is logged beside the error it was told, never thrown at the code that reports.
 */
export function userReporter(
  onError: ((error: unknown, where: string) => unknown) | undefined,
): (error: unknown, where: string) => void {
  const told = onError ?? ((error: unknown, where: string) => console.error(`[tether] ${where}:`, error));
  return (error, where) =>
    callUserCallback(
      () => told(error, where),
      (reportError) =>
        console.error(
          `[tether] the onError handler threw while reporting ${where}:`,
          reportError,
          'original error:',
          error,
        ),
    );
}

/** Whether `value` has a callable `then`: what `await` would wait on, a promise from another realm or library too. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
