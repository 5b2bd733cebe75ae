import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, createMemoryStore, type VariableChange, type VariableRecord } from '../src/index.js';
import { laggingStore } from './support/lagging-store.js';
import { waitFor } from './support/wait-for.js';

/**
 * A Store's watch may deliver later than its writes land (the Store contract leaves when listeners run to the
 * implementation): a runtime whose write loses a race then reads the key before its watch brings the writes in between.
 */
describe('runtimes sharing a store whose watch lags', () => {
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  it('tells a watcher every version in order, with its old value, though its own writes lost races', async () => {
    const store = createMemoryStore<VariableRecord>();
    for (let i = 0; i < 3; i++) runtimes.push(await Runtime.start({ store: laggingStore(store, 10) }));
    const [a, b, c] = await Promise.all(runtimes.map((runtime) => runtime.session('shared')));
    await a!.defineVariable('n', 'integer', 0);
    await waitFor(async () => (await b!.hasVariable('n')) && (await c!.hasVariable('n')));
    const seen: VariableChange[] = [];
    await b!.watchVariables('n', (change) => seen.push(change));

    const increments = (session: typeof a) =>
      Array.from({ length: 30 }, () => session!.updateVariable('n', (v) => (v as number) + 1));
    await Promise.all([...increments(a), ...increments(b), ...increments(c)]);

    await waitFor(async () => (await b!.getVariable('n')) === 90);
    expect(seen.map((change) => change.version)).toEqual(Array.from({ length: 90 }, (_, i) => i + 2));
    expect(seen.map((change) => [change.oldValue, change.newValue])).toEqual(
      Array.from({ length: 90 }, (_, i) => [i, i + 1]),
    );
    expect(seen.filter((change) => change.gap)).toEqual([]);
  }, 15_000);
});
