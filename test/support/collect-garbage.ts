/**
 * A full garbage collection for tests that check something was let go (a `WeakRef` cleared).
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection, asked of V8 directly (vitest's workers run without `--expose-gc`). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
