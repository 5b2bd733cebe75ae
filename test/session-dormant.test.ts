/**
 * An embedded session whose process was stopped after it wrote (or crashed) is dormant: listed, its variables in the
 * store, and expired after its TTL by a process started for that. Found by a review of that change: a use during the
 * expiry's load, a load that fails, and a stopped handle used after the expiry.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Runtime } from '../src/index.js';
import { createMemoryStore } from '../src/store/memory-store.js';
import type { VariableRecord } from '../src/variables/types.js';
import { waitFor } from './support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory store whose session loads (`list`) can be made slow or made to fail once. */
function controlledStore() {
  const inner = createMemoryStore<VariableRecord>();
  const loads = { delayMs: 0, failures: 0 };
  const store = {
    ...inner,
    list: async (prefix: string) => {
      if (loads.delayMs > 0) await sleep(loads.delayMs);
      if (loads.failures > 0) {
        loads.failures -= 1;
        throw new Error('store briefly unavailable');
      }
      return inner.list(prefix);
    },
  };
  return { store, inner, loads };
}

describe('a dormant embedded session', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  /** Session `id` with one variable, stopped: dormant. */
  async function dormant(id: string): Promise<void> {
    const session = await runtime!.session(id);
    await session.defineVariable('t', 'integer', 1);
    await session.stop();
    expect((await runtime!.listSessions()).ids).toEqual([id]);
  }

  it('is not expired under a user who opens it while its expiry loads it', async () => {
    const { store, loads } = controlledStore();
    runtime = await Runtime.start({ store, sessionTtlMs: 300 });
    await dormant('x');
    // Half the TTL: the open below counts as a use from when it was made, and the load ends well within a TTL of it.
    loads.delayMs = 150;
    // The expiry's process is loading the session now.
    await waitFor(() => runtime!.sessionIds().length === 1, { message: 'the expiry started' });
    const opened = await runtime.session('x');
    expect(await opened.setVariable('t', 2)).toMatchObject({ value: 2, version: 2 });
    expect(await opened.getVariable('t')).toBe(2);
  });

  it('stays dormant when its expiry cannot load it, reports why, and expires once the store answers', async () => {
    const { store, inner, loads } = controlledStore();
    const reports: string[] = [];
    runtime = await Runtime.start({ store, sessionTtlMs: 300, onError: (error) => reports.push(String(error)) });
    await dormant('x');
    loads.failures = 1;
    await waitFor(() => reports.length === 1, { message: 'the failed expiry was reported' });
    expect(reports[0]).toMatch(/store briefly unavailable/);
    expect((await runtime.listSessions()).ids).toEqual(['x']);
    await waitFor(async () => (await inner.keys('x.')).length === 0, { message: 'expired once the store answered' });
    expect((await runtime.listSessions()).ids).toEqual([]);
  });

  it('stays dormant when a use cannot load it, and still expires', async () => {
    const { store, inner, loads } = controlledStore();
    runtime = await Runtime.start({ store, sessionTtlMs: 300 });
    await dormant('x');
    loads.failures = 1;
    await expect(runtime.session('x')).rejects.toThrow(/store briefly unavailable/);
    expect((await runtime.listSessions()).ids).toEqual(['x']);
    await waitFor(async () => (await inner.keys('x.')).length === 0, { message: 'the session expired' });
  });

  it('once expired, is not deleted through a handle stopped before, which would delete the next session', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 300 });
    const old = await runtime.session('chat');
    await old.defineVariable('t', 'integer', 1);
    await old.stop();
    await waitFor(async () => (await runtime!.listSessions()).ids.length === 0, { message: 'the session expired' });
    const fresh = await runtime.session('chat');
    await fresh.defineVariable('other', 'string', 'someone else');
    await expect(old.delete()).rejects.toMatchObject({ code: 'session_expired' });
    expect(await fresh.getVariable('other')).toBe('someone else');
  });

  it('is deleted through a handle stopped before, while it has not expired', async () => {
    runtime = await Runtime.start({ sessionTtlMs: 60_000 });
    const old = await runtime.session('chat');
    await old.defineVariable('t', 'integer', 1);
    await old.stop();
    await old.delete();
    expect((await runtime.listSessions()).ids).toEqual([]);
    expect(await (await runtime.session('chat')).listVariables()).toEqual([]);
  });

  // Found by a review: a change another runtime wrote to it did not touch its idle clock here, which then expired it
  // (purging what that runtime kept writing) a TTL after its own last use.
  it('is not expired under another runtime of its store that keeps writing it', async () => {
    const store = createMemoryStore<VariableRecord>();
    const b = await Runtime.start({ store, sessionTtlMs: 200 });
    onTestFinished(() => b.stop());
    const a = (runtime = await Runtime.start({ store, sessionTtlMs: 200 }));
    const onA = await a.session('shared');
    await onA.defineVariable('x', 'integer', 0);
    await onA.stop();
    const onB = await b.session('shared');
    const refused: unknown[] = [];
    // Every 50 ms for four TTLs: never idle for near its TTL.
    for (let i = 1; i <= 16; i += 1) {
      await onB.setVariable('x', i).catch((error: { code?: string }) => refused.push([i, error.code]));
      await sleep(50);
    }
    expect(refused).toEqual([]);
    expect((await store.get('shared.x'))?.value.value).toBe(16);
  });
});
