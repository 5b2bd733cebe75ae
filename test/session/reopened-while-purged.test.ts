/**
 * An embedded session that expired is deleted as `session.delete()` deletes it (README): opening the id again starts a
 * new, empty session, also while the expired process's purge is still on its way (a store that takes a moment per
 * operation, as a JetStream KV store does). The new process loads once the purge is through; loaded before, it held
 * the expired life's variables, and a write of one then outlived the purge for good.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore, Runtime, type Store, type VariableRecord } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory store whose purges take 30 ms each, as a remote store's round trip does. */
function slowPurgeStore(): Store<VariableRecord> {
  const inner = createMemoryStore<VariableRecord>();
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'purge')
        return async (key: string, expected?: number) => {
          await sleep(30);
          return target.purge(key, expected);
        };
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('an embedded session opened again as it expires', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('starts empty: the expired life’s variables do not come back in the new one', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 100, store: slowPurgeStore() });
    const session = await runtime.session('reused');
    await session.defineVariable('secret', 'string', 'old life');
    // Its process is gone as soon as it expired (no use: `sessionIds` reads nothing): the purge is then under way.
    await waitFor(() => !runtime!.sessionIds().includes('reused'), {
      interval: 1,
      timeout: 5_000,
      message: 'the session expired',
    });
    await expect(session.getVariable('secret')).rejects.toMatchObject({ code: 'session_expired' });
    const again = await runtime.session('reused');
    expect(await again.listVariables()).toEqual([]);
    expect(await again.hasVariable('secret')).toBe(false);
  });

  it('does not let the new life write over the old life’s variable and keep it, history and all', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 400, store: slowPurgeStore() });
    const session = await runtime.session('kept');
    await session.defineVariable('secret', 'string', 'old life');
    await waitFor(() => !runtime!.sessionIds().includes('kept'), {
      interval: 1,
      timeout: 5_000,
      message: 'the session expired',
    });
    const again = await runtime.session('kept');
    // The new life has no variable 'secret': a write of it is refused (variable_not_found), and nothing of the old
    // life stays in it once the expiry's purge is through.
    const write = await again.setVariable('secret', 'new life').then(
      () => 'written',
      (error: { code?: string }) => error.code,
    );
    await sleep(150);
    const history = (await again.hasVariable('secret'))
      ? (await again.variableHistory('secret')).map((entry) => entry.value)
      : [];
    expect({ write, history }).toEqual({ write: 'variable_not_found', history: [] });
  });
});
