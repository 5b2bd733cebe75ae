/**
 * A write whose wait for its session process runs out (`callTimeoutMs`) is answered `call_timeout` naming the
 * variable, and says what became of it, as a remote write's timeout does: one still queued is taken back and never
 * carried out (`details.outcome: 'not_applied'`); one whose commit was under way may land (`'unknown'`). Before, both
 * were carried out afterwards, with nothing saying they might be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createMemoryStore, type Store, type VariableRecord } from '../../src/index.js';

describe('an embedded write that timed out', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  async function slowStore(delayMs: number) {
    const base = createMemoryStore<VariableRecord>();
    const control = { slow: false };
    // A store whose commits take a while (a KV bucket under load, a store of the user's own).
    const store: Store<VariableRecord> = {
      ...base,
      commit: async (writes) => {
        if (control.slow) await new Promise((resolve) => setTimeout(resolve, delayMs));
        return base.commit(writes);
      },
    };
    runtime = await Runtime.start({ store, callTimeoutMs: 40 });
    const session = await runtime.session('s1');
    return { session, control };
  }

  it('does not carry out a queued write whose caller was already told it timed out', async () => {
    const { session, control } = await slowStore(100);
    await session.defineVariable('first', 'integer', 0);
    await session.defineVariable('second', 'integer', 0);
    control.slow = true;
    const first = session.setVariable('first', 1).catch((error: unknown) => error);
    const second = await session.setVariable('second', 1).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(second).toMatchObject({ code: 'call_timeout', details: { variable: 'second', outcome: 'not_applied' } });
    await first;
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Its caller was refused before it was even started: a refused operation changes nothing.
    expect(await session.getVariable('second')).toBe(0);
  });

  it("says a timed-out write's outcome is unknown, and names the variable", async () => {
    const { session, control } = await slowStore(100);
    await session.defineVariable('temperature', 'float', 0.5);
    control.slow = true;
    const error = await session.setVariable('temperature', 0.9).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details?: Record<string, unknown> },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await session.getVariable('temperature')).toBe(0.9); // it landed
    expect(error).toMatchObject({ code: 'call_timeout', details: { outcome: 'unknown' } });
    expect(error?.message).toContain('temperature');
  });
});
