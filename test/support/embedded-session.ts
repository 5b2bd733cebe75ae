/**
 * The setup of the embedded session tests: a fresh runtime and its session `s1` before each test, stopped after.
 * @module
 */
import { afterEach, beforeEach } from 'vitest';
import { Runtime, type Session } from '../../src/index.js';

/** Registers the hooks; `use` receives each test's runtime and session before it runs. */
export function useEmbeddedSession(use: (runtime: Runtime, session: Session) => void): void {
  let runtime: Runtime | undefined;
  beforeEach(async () => {
    runtime = await Runtime.start();
    use(runtime, await runtime.session('s1'));
  });
  afterEach(() => runtime?.stop());
}
