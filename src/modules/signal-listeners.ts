/**
 * The abort listeners of executions that share one `AbortSignal`, as one listener on the signal. A caller may well
 * pass one signal to a batch of executions ("cancel them all", or all on shutdown); each adding a listener of its own
 * made Node print `MaxListenersExceededWarning: Possible EventTarget memory leak detected` from the eleventh in
 * flight, a false alarm (each is removed as its execution ends) on a loaded service's stderr. Raising the signal's
 * limit instead would change the caller's object. Shared by the embedded and the remote module handle, and by a
 * module's own `forward({ abortSignal })` (ax-program-runner.ts).
 * @module
 */

/** The listeners of one signal, and the one listener of theirs the signal holds. */
interface FanOut {
  readonly listeners: Set<() => void>;
  readonly dispatch: () => void;
}

const fanOuts = new WeakMap<AbortSignal, FanOut>();

/**
 * Calls `listener` once when `signal` aborts, as `addEventListener('abort', listener, { once: true })` does, however
 * many listeners share the signal: it holds one listener for all of them, and none once each was removed. A listener
 * that throws is reported as the signal's own listener would be (an uncaught exception, on the next tick), and the
 * others are called all the same.
 * @returns the function that removes it (harmless once the signal aborted)
 * @example
 * const off = onAbort(options.signal, () => cancel(executionId));
 * try { return await run(); } finally { off(); }
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let fanOut = fanOuts.get(signal);
  if (!fanOut) {
    const listeners = new Set<() => void>();
    const dispatch = (): void => {
      fanOuts.delete(signal);
      for (const each of [...listeners]) {
        // One removed by a listener before it is not called, as the signal's own listeners would not be.
        if (!listeners.has(each)) continue;
        try {
          each();
        } catch (error) {
          process.nextTick(() => {
            throw error;
          });
        }
      }
      listeners.clear();
    };
    fanOut = { listeners, dispatch };
    fanOuts.set(signal, fanOut);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  // Wrapped: the same function added twice (two executions sharing one callback) is two listeners, called twice.
  const entry = (): void => listener();
  const own = fanOut;
  own.listeners.add(entry);
  return () => {
    if (!own.listeners.delete(entry) || own.listeners.size > 0 || fanOuts.get(signal) !== own) return;
    fanOuts.delete(signal);
    signal.removeEventListener('abort', own.dispatch);
  };
}
