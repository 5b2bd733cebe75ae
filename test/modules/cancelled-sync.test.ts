/**
 * An execution cancelled (or timed out) while its module syncs: the sync cannot be aborted, and what it applies (new
 * values, another program type) stays applied, so later executions run on it while no later sync would report it
 * again. Its answer is therefore reported when it comes, under the cancelled execution's id, and the module's type
 * is the one its program now is.
 */
import { describe, expect, it } from 'vitest';
import type { ModuleApi } from '../../src/index.js';
import { text } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';
import { waitFor } from '../support/wait-for.js';

const { stub, session } = useStubbedSession('cancelled-sync');

/** An onChange callback that holds its sync until `release()`, as one writing to a slow database does. */
function slowCallback() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { calls: 0, release };
  return { state, onChange: async () => void (state.calls++, await gate) };
}

/** Starts an execution of `module` and cancels it once its sync is held by `slow`; resolves to its execution id. */
async function cancelWhileSyncing(module: ModuleApi, slow: ReturnType<typeof slowCallback>): Promise<string> {
  const cancel = new AbortController();
  const callsBefore = slow.state.calls;
  const first = module.execute({ question: 'a' }, { signal: cancel.signal }).catch((e: unknown) => e);
  await waitFor(() => slow.state.calls === callsBefore + 1, { message: 'the sync calling back' });
  cancel.abort();
  const error = (await first) as { code: string; details: { executionId: string } };
  expect(error.code).toBe('execution_aborted');
  return error.details.executionId;
}

/** Module `qa`, of the type variable `kind` (Predict), its temperature bound to `temp` (0.5) through `slow`. */
async function typeSwitchingModule(): Promise<{ qa: ModuleApi; slow: ReturnType<typeof slowCallback> }> {
  stub().fallback = () => text('Reasoning: r\nAnswer: ok');
  await session().defineVariable('kind', 'module', 'Predict');
  await session().defineVariable('temp', 'float', 0.5);
  const slow = slowCallback();
  const qa = await session().module('qa', {
    typeVariable: 'kind',
    signature: 'question:string -> answer:string',
    maxRetries: 0,
    bindings: { temperature: { variable: 'temp', onChange: slow.onChange } },
  });
  return { qa, slow };
}

/** Module `qa` (Predict), its temperature bound to `temp` (0.5) through `slow`; `reported` collects its syncs. */
async function reportingModule() {
  stub().fallback = () => text('Answer: ok');
  await session().defineVariable('temp', 'float', 0.5);
  const slow = slowCallback();
  const qa = await session().module('qa', {
    type: 'Predict',
    signature: 'question:string -> answer:string',
    maxRetries: 0,
    bindings: { temperature: { variable: 'temp', onChange: slow.onChange } },
  });
  const reported: { executionId: string; changes: unknown }[] = [];
  qa.on('module.synced', (event) => reported.push({ executionId: event.executionId, changes: event.outcome.changes }));
  return { qa, slow, reported };
}

describe('an execution cancelled while its module syncs', () => {
  it('has the changes its sync applied reported when the sync ends, under its execution id', async () => {
    const { qa, slow, reported } = await reportingModule();
    await session().setVariable('temp', 0.9);
    const cancelled = await cancelWhileSyncing(qa, slow);
    slow.state.release();
    const next = await qa.execute({ question: 'b' });
    // The change went out on the wire, and was reported once, as the cancelled execution's sync. The next
    // execution's sync does not wait for it (a callback that never returns must not hold the module for good), so
    // the two reports come in either order.
    expect(stub().chatRequests.map((r) => r.body.temperature)).toEqual([0.9]);
    await waitFor(() => reported.length === 2, { message: 'both syncs reported' });
    expect(reported).toHaveLength(2);
    expect(reported).toEqual(
      expect.arrayContaining([
        { executionId: cancelled, changes: { temperature: [0.5, 0.9] } },
        { executionId: next.executionId, changes: {} },
      ]),
    );
  });

  it('reports the sync of each of two executions cancelled one after the other while their syncs wait', async () => {
    const { qa, slow, reported } = await reportingModule();
    await session().setVariable('temp', 0.9);
    const first = await cancelWhileSyncing(qa, slow);
    await session().setVariable('temp', 1.1);
    const second = await cancelWhileSyncing(qa, slow);
    slow.state.release();
    const last = await qa.execute({ question: 'c' });
    await waitFor(() => reported.length === 3, { message: 'three syncs reported' });
    expect(reported).toEqual(
      expect.arrayContaining([
        { executionId: first, changes: { temperature: [0.5, 0.9] } },
        { executionId: second, changes: { temperature: [0.9, 1.1] } },
        { executionId: last.executionId, changes: {} },
      ]),
    );
  });

  it('has the type swap it made announced, and describe() naming the type the program now is', async () => {
    const { qa, slow } = await typeSwitchingModule();
    const swaps: unknown[] = [];
    qa.on('module.synced', (event) => swaps.push(event.outcome.swappedFrom));
    await session().setVariables({ kind: 'ChainOfThought', temp: 0.9 });
    await cancelWhileSyncing(qa, slow);
    slow.state.release();
    await waitFor(() => swaps.length === 1, { message: 'the abandoned sync reported' });
    expect(swaps).toEqual(['Predict']);
    expect((await qa.describe()).moduleType).toBe('ChainOfThought');
    expect((await qa.execute({ question: 'b' })).moduleType).toBe('ChainOfThought');
  });

  it("keeps a later execution's type when the cancelled sync's answer comes after that execution's sync", async () => {
    const { qa, slow } = await typeSwitchingModule();
    await session().setVariable('temp', 0.9);
    await cancelWhileSyncing(qa, slow);
    // The next execution syncs (to ChainOfThought) and ends while the cancelled one's sync still waits.
    await session().setVariable('kind', 'ChainOfThought');
    expect((await qa.execute({ question: 'b' })).moduleType).toBe('ChainOfThought');
    const synced = new Promise<string>((resolve) =>
      qa.on('module.synced', (event) => resolve(event.outcome.moduleType)),
    );
    slow.state.release();
    // Read before the swap: the late answer says Predict, which the module no longer is.
    expect(await synced).toBe('Predict');
    expect((await qa.describe()).moduleType).toBe('ChainOfThought');
  });
});
