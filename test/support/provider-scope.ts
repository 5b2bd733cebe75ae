/**
 * One test's local provider and runtime, cleaned up after it: {@link useProviderScope} registers the `afterEach`
 * that stops the runtime, closes the server and puts the global `fetch` back (see `guardFetch`), so a test file of
 * provider requests holds no module-level state of its own.
 */
import { afterEach, vi } from 'vitest';
import { Runtime, type RuntimeOptions } from '../../src/index.js';
import { ProviderServer } from './provider-servers.js';

/** What a test starts through {@link useProviderScope}; whatever it started is gone after the test. */
export interface ProviderScope {
  /** Starts this test's {@link ProviderServer}, closed after the test. */
  startServer(): Promise<ProviderServer>;
  /** This test's server, once started. */
  readonly server: ProviderServer;
  /** Starts this test's runtime, stopped after the test. */
  startRuntime(options: RuntimeOptions): Promise<Runtime>;
}

/** Registers, for the tests of the calling file, the `afterEach` that ends what each test started. */
export function useProviderScope(): ProviderScope {
  let server: ProviderServer | undefined;
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await server?.close();
    server = undefined;
    vi.unstubAllGlobals();
  });
  return {
    async startServer() {
      server = await ProviderServer.start();
      return server;
    },
    get server() {
      if (!server) throw new Error('useProviderScope(): no server started in this test (startServer)');
      return server;
    },
    async startRuntime(options) {
      runtime = await Runtime.start(options);
      return runtime;
    },
  };
}
