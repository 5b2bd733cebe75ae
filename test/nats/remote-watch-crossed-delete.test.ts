/**
 * A remote watch whose variable's delete event overtakes, on the wire, the event of the write before it: the two were
 * committed by different nodes, each of which publishes its own commits. Nothing was lost, and the embedded watches
 * on the nodes deliver both; the remote watch marked the delete `gap: true` at once and then dropped the late write
 * as older than the delete (found by a chaos run: two clients and a node writing, deleting and defining one variable).
 */
import { describe, expect, it, vi } from 'vitest';
import { watchRemote, type WatchReads } from '../../src/nats/remote-watch.js';
import type { VariableEvent } from '../../src/nats/variable-events.js';
import type { VariableChange } from '../../src/session/session-context.js';
import { fakeTransport } from '../support/fake-remote-transport.js';
import { briefChange, xEvent, xWrite } from '../support/x-events.js';
import { integerRecord } from '../support/integer-records.js';

/** Version v of x (identity x-1) is written at store revision 10 + v, with value 10 v. */
const written = (version: number): VariableEvent => xWrite(version, 'writer');

/** The delete of x at `version`, after the value of the version before it. */
const deleted = (version: number): VariableEvent =>
  xEvent({
    id: 'x-1',
    oldValue: (version - 1) * 10,
    version,
    updatedBy: 'cleaner',
    revision: 10 + version,
    deleted: true,
  });

describe('remote watch, a delete that crossed the write before it', () => {
  it('delivers the write and then the delete, unmarked, when the write comes while the watch reads', async () => {
    const { fake, transport, emit } = fakeTransport();
    let lists = 0;
    let answer!: () => void;
    const reads: WatchReads = {
      list: async () => {
        lists += 1;
        if (lists === 1) return { records: [integerRecord('x', 2, 20, 'x-1')], revisionOf: () => 12 };
        // The read the delete caused: the variable is gone. The late write arrives before its answer.
        await new Promise<void>((resolve) => (answer = resolve));
        return { records: [], revisionOf: () => 14 };
      },
      history: async () => [],
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(deleted(4));
    await vi.waitFor(() => expect(lists).toBe(2));
    emit(written(3));
    answer();

    await vi.waitFor(() => expect(changes.at(-1)?.deleted).toBe(true));
    expect(changes.map(briefChange)).toEqual([
      [3, 20, 30, 'writer', false, false],
      [4, 30, undefined, 'cleaner', true, false],
    ]);
    // Both events are accounted for: a copy of either coming again is no news.
    emit(written(3));
    emit(deleted(4));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(changes).toHaveLength(2);
    expect(fake.reported).toEqual([]);
  });

  it('delivers the delete marked, with its own version and author, when the write before it never comes', async () => {
    const { transport, emit } = fakeTransport();
    let lists = 0;
    const reads: WatchReads = {
      list: async () => {
        lists += 1;
        if (lists === 1) return { records: [integerRecord('x', 2, 20, 'x-1')], revisionOf: () => 12 };
        return { records: [], revisionOf: () => 14 };
      },
      history: async () => [],
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(deleted(4));
    await vi.waitFor(() => expect(changes).toHaveLength(1));
    expect(changes.map(briefChange)).toEqual([[4, undefined, undefined, 'cleaner', true, true]]);
    // Defined again: a new variable, its first version delivered as such.
    const { oldValue: _none, ...defined } = written(1);
    emit({ ...defined, id: 'x-2', revision: 15 });
    await vi.waitFor(() => expect(changes).toHaveLength(2));
    expect(changes[1]).toMatchObject({ version: 1, newValue: 10 });
    expect(changes[1]!.gap).toBeUndefined();
  });
});
