/**
 * A remote watch whose variable, deleted (or absent), is defined again and deleted again through two nodes: the new
 * variable's delete event overtakes, on the wire, its define's. The watch knew the name only as deleted, so it marked
 * the delete `gap: true` at once and then dropped the late define as older, where the store and every embedded watch
 * had both (the crossed delete of a variable known live: remote-watch-crossed-delete.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { watchRemote, type WatchReads } from '../../src/nats/remote-watch.js';
import type { VariableEvent } from '../../src/nats/variable-events.js';
import type { VariableChange } from '../../src/session/session-context.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { fakeTransport } from '../support/fake-remote-transport.js';
import { briefChange, xEvent } from '../support/x-events.js';
import { integerRecord } from '../support/integer-records.js';

/** The define of x as variable `id`, at store revision `revision`, with value 10. */
const defined = (id: string, revision: number): VariableEvent =>
  xEvent({ id, newValue: 10, version: 1, updatedBy: 'writer', revision });

/** The delete of variable `id` of x at `version`, after value 10 v - 10, at store revision `revision`. */
const deleted = (id: string, version: number, revision: number): VariableEvent =>
  xEvent({ id, oldValue: (version - 1) * 10, version, updatedBy: 'cleaner', revision, deleted: true });

/**
 * Reads whose first one (the watch's start) finds `initial`; the ones after it find `later` (x gone, by default), at
 * revision 20, each answered only once `answer` is called when `wait` is set.
 */
function readsOf(initial: VariableRecord[], later: VariableRecord[] = [], wait = false) {
  const state = { lists: 0, answer: (): void => undefined };
  const reads: WatchReads = {
    list: async () => {
      state.lists += 1;
      if (state.lists === 1) return { records: initial, revisionOf: () => 12 };
      if (wait) await new Promise<void>((resolve) => (state.answer = resolve));
      return { records: later, revisionOf: () => 20 };
    },
    history: async () => [],
  };
  return { reads, state };
}

/**
 * A watch whose first read found no x: variable x-2's delete (v2) comes first, then, while the watch reads, its
 * define; `later` is what that read finds. Resolves with the changes delivered once there are `count`.
 */
async function crossedWhileReading(later: VariableRecord[], count: number): Promise<VariableChange[]> {
  const { transport, emit } = fakeTransport();
  const { reads, state } = readsOf([], later, true);
  const changes: VariableChange[] = [];
  await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);
  emit(deleted('x-2', 2, 15));
  await vi.waitFor(() => expect(state.lists).toBe(2));
  emit(defined('x-2', 14));
  state.answer();
  await vi.waitFor(() => expect(changes).toHaveLength(count));
  return changes;
}

describe('remote watch, a delete that crossed the define of its variable', () => {
  it('delivers the define and then the delete, unmarked, after the old variable was deleted', async () => {
    const { fake, transport, emit } = fakeTransport();
    const { reads, state } = readsOf([integerRecord('x', 1, 10, 'x-1')], [], true);
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(deleted('x-1', 2, 13));
    await vi.waitFor(() => expect(changes).toHaveLength(1));
    // x-2 defined through one node and deleted through another: the delete's event comes first.
    emit(deleted('x-2', 2, 15));
    await vi.waitFor(() => expect(state.lists).toBe(2));
    emit(defined('x-2', 14));
    state.answer();

    await vi.waitFor(() => expect(changes).toHaveLength(3));
    expect(changes.map(briefChange)).toEqual([
      [2, 10, undefined, 'cleaner', true, false],
      [1, undefined, 10, 'writer', false, false],
      [2, 10, undefined, 'cleaner', true, false],
    ]);
    // Both events are accounted for: a copy of either coming again is no news.
    emit(defined('x-2', 14));
    emit(deleted('x-2', 2, 15));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(changes).toHaveLength(3);
    expect(fake.reported).toEqual([]);
  });

  it('delivers the define and then the delete of a variable its first read did not find', async () => {
    const changes = await crossedWhileReading([], 2);
    expect(changes.map(briefChange)).toEqual([
      [1, undefined, 10, 'writer', false, false],
      [2, 10, undefined, 'cleaner', true, false],
    ]);
  });

  it('delivers the crossed pair before a variable defined again since, which the read found', async () => {
    const changes = await crossedWhileReading([integerRecord('x', 1, 30, 'x-3')], 3);
    expect(changes.map(briefChange)).toEqual([
      [1, undefined, 10, 'writer', false, false],
      [2, 10, undefined, 'cleaner', true, false],
      [1, undefined, 30, null, false, false],
    ]);
  });

  it('delivers the delete marked, with its own version and author, when the define never comes', async () => {
    const { transport, emit } = fakeTransport();
    const { reads } = readsOf([integerRecord('x', 1, 10, 'x-1')]);
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(deleted('x-1', 2, 13));
    emit(deleted('x-2', 2, 15));
    await vi.waitFor(() => expect(changes).toHaveLength(2));
    expect(changes.map(briefChange)[1]).toEqual([2, undefined, undefined, 'cleaner', true, true]);
    // Its define coming after all is older than what was delivered: dropped, as a late write is.
    emit(defined('x-2', 14));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(changes).toHaveLength(2);
    // Defined again after the read: a new variable, its first version delivered as such.
    emit(defined('x-3', 21));
    await vi.waitFor(() => expect(changes).toHaveLength(3));
    expect(changes.map(briefChange)[2]).toEqual([1, undefined, 10, 'writer', false, false]);
  });
});
