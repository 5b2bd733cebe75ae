import { describe, expect, it } from 'vitest';
import type { VariableHistoryEntry } from '../../src/session/variable-history.js';
import type { VariableEvent } from '../../src/nats/variable-events.js';
import { CallTimeoutError, NoProcError } from '../../src/errors.js';
import { integerRecord, versionTime } from '../support/integer-records.js';
import { catchUpChanges, isNewer, skipsVersions, type KnownVariable } from '../../src/nats/watch-catch-up.js';

const at = versionTime;
const record = integerRecord;

/** Versions `from`..`to` of a variable whose value at version v is v * 10. */
const entries = (from: number, to: number): VariableHistoryEntry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    version: from + i,
    type: 'integer',
    value: (from + i) * 10,
    updatedAt: at(from + i),
    updatedBy: null,
    reason: null,
  }));

const event = (version: number, revision: number, id = 'x-1'): VariableEvent => ({
  sessionId: 's',
  name: 'x',
  id,
  type: 'integer',
  newValue: version * 10,
  version,
  updatedBy: null,
  revision,
});

const read = (version: number, revision: number, deleted = false): KnownVariable => ({
  id: 'x-1',
  version,
  deleted,
  revision,
  fromRead: true,
});

describe('watch catch-up', () => {
  it('passes an event after a read only when the read cannot reflect it', () => {
    // The read answered at revision 50 with version 5.
    expect(isNewer(event(5, 40), read(5, 50))).toBe(false);
    expect(isNewer(event(6, 60), read(5, 50))).toBe(true);
    // Written before the reply's revision but not yet applied by the node that answered: still news.
    expect(isNewer(event(6, 49), read(5, 50))).toBe(true);
    // The version read, or one before it, past the read's revision: that revision understates the read, never news.
    expect(isNewer(event(5, 60), read(5, 50))).toBe(false);
    expect(isNewer(event(4, 60), read(5, 50))).toBe(false);
    // Another variable of that name, written before the read: the read already shows what came after it.
    expect(isNewer(event(9, 45, 'x-0'), read(5, 50))).toBe(false);
    expect(isNewer(event(6, 45), read(5, 50, true))).toBe(false);
    // After an event, by revision alone.
    expect(isNewer(event(7, 70), { id: 'x-1', version: 6, deleted: false, revision: 71, fromRead: false })).toBe(false);
    // A variable known deleted has no later version, whatever the revisions say; another one of its name may.
    expect(isNewer(event(6, 60), read(6, 50, true))).toBe(false);
    expect(isNewer(event(1, 60, 'x-2'), read(6, 50, true))).toBe(true);
  });

  it('tells an event that skips versions from the next one, within one identity', () => {
    const after5 = { id: 'x-1', version: 5, deleted: false, revision: 50, fromRead: false };
    expect(skipsVersions(event(6, 60), after5)).toBe(false);
    expect(skipsVersions(event(7, 70), after5)).toBe(true);
    // Another variable of that name: the delete of the one known was missed.
    expect(skipsVersions(event(1, 70, 'x-2'), after5)).toBe(true);
    // A variable not known, or known deleted, starts at version 1.
    expect(skipsVersions(event(1, 70, 'x-2'), { ...after5, deleted: true })).toBe(false);
    expect(skipsVersions(event(2, 70, 'x-2'), { ...after5, deleted: true })).toBe(true);
    expect(skipsVersions(event(1, 70), undefined)).toBe(false);
    expect(skipsVersions(event(3, 70), undefined)).toBe(true);
  });

  it('delivers the versions past the known one from the history, up to the version read', async () => {
    const known = new Map([['x', read(2, 20)]]);
    const changes = await catchUpChanges(known, [record('x', 5, 50)], 60, async () => entries(1, 6));
    expect(changes.map((c) => [c.version, c.oldValue, c.newValue, c.gap])).toEqual([
      [3, 20, 30, undefined],
      [4, 30, 40, undefined],
      [5, 40, 50, undefined],
    ]);
    expect(known.get('x')).toEqual({
      id: 'x-1',
      version: 5,
      deleted: false,
      revision: 60,
      fromRead: true,
      current: { value: 50 },
    });
  });

  it('delivers the record alone, marked, when the history cannot be read or is of another variable', async () => {
    const unreadable = await catchUpChanges(new Map([['x', read(2, 20)]]), [record('x', 5, 50)], 60, () =>
      Promise.reject(new Error('payload_too_large')),
    );
    // Deleted and defined again between the read and the history: versions 1..5 of another variable.
    const another = await catchUpChanges(new Map([['x', read(2, 20)]]), [record('x', 5, 50)], 60, async () =>
      entries(1, 5).map((entry) => ({ ...entry, updatedAt: at(entry.version + 30) })),
    );
    for (const changes of [unreadable, another]) {
      expect(changes).toEqual([
        { name: 'x', oldValue: undefined, newValue: 50, version: 5, updatedBy: null, gap: true },
      ]);
    }
  });

  // Found by a review: a burst of writes from two nodes pushed the versions between the known one and the one read
  // out of the history before the read was answered, and their events, held meanwhile, were dropped as old.
  it('fills from the events held meanwhile the versions the history no longer keeps, this variable only', async () => {
    const crossed = [
      { ...event(4, 40), oldValue: 30 },
      { ...event(3, 30), oldValue: 20 },
      event(3, 25, 'x-0'),
      { ...event(6, 60), deleted: true as const },
    ];
    const pushedOut = await catchUpChanges(
      new Map([['x', read(2, 20)]]),
      [record('x', 5, 50)],
      60,
      async () => entries(5, 8),
      [],
      () => crossed,
    );
    expect(pushedOut.map((c) => [c.version, c.oldValue, c.newValue, c.gap])).toEqual([
      [3, 20, 30, undefined],
      [4, 30, 40, undefined],
      [5, 40, 50, undefined],
    ]);
    // No usable history at all: the events, then the record. A version nobody told is still a gap.
    const unreadable = await catchUpChanges(
      new Map([['x', read(2, 20)]]),
      [record('x', 5, 50)],
      60,
      () => Promise.reject(new Error('payload_too_large')),
      [],
      () => [{ ...event(4, 40), oldValue: 30 }],
    );
    // Version 5, the next after 4, says what it replaced, as every change not marked does (the record alone cannot).
    expect(unreadable.map((c) => [c.version, c.oldValue, c.newValue, c.gap])).toEqual([
      [4, 30, 40, true],
      [5, 40, 50, undefined],
    ]);
  });

  // Found by the concurrency fuzzer (test/nats/session-concurrency.nats.test.ts): increments of one counter from four
  // nodes pushed the version a remote watch had delivered last out of the kept history before its repair of crossed
  // events read it, and the next version came unmarked with `oldValue: undefined`, as if the counter were new: a
  // listener applying the changes lost the value. The watch knows what it delivered last.
  it('tells the next version the value the watch knew last, when the history no longer keeps that version', async () => {
    const known = new Map([['x', { ...read(2, 20), current: { value: 20 } }]]);
    const changes = await catchUpChanges(known, [record('x', 5, 50)], 60, async () => entries(3, 8));
    expect(changes.map((c) => [c.version, c.oldValue, c.newValue, c.gap])).toEqual([
      [3, 20, 30, undefined],
      [4, 30, 40, undefined],
      [5, 40, 50, undefined],
    ]);
    // The history unreadable, the record is the next version: it too replaced what the watch knew.
    const alone = await catchUpChanges(
      new Map([['x', { ...read(4, 40), current: { value: 40 } }]]),
      [record('x', 5, 50)],
      60,
      () => Promise.reject(new Error('payload_too_large')),
    );
    expect(alone.map((c) => [c.version, c.oldValue, c.newValue, c.gap])).toEqual([[5, 40, 50, undefined]]);
    expect(known.get('x')).toEqual({
      id: 'x-1',
      version: 5,
      deleted: false,
      revision: 60,
      fromRead: true,
      current: { value: 50 },
    });
  });

  it('fails the pass, knowing nothing more, when a history read is to be tried again; the next pass delivers', async () => {
    const known = new Map([
      ['a', { ...read(2, 20), id: 'a-1' }],
      ['x', read(2, 20)],
    ]);
    const before = new Map(known);
    for (const failure of [new CallTimeoutError('history', 5000), new NoProcError('history')]) {
      const failing = (name: string) => (name === 'x' ? Promise.reject(failure) : Promise.resolve(entries(1, 4)));
      await expect(catchUpChanges(known, [record('a', 4, 40), record('x', 5, 50)], 60, failing)).rejects.toBe(failure);
      // Not even 'a', whose history was read: its changes were not delivered either.
      expect(known).toEqual(before);
    }
    const changes = await catchUpChanges(known, [record('a', 4, 40), record('x', 5, 50)], 70, async (name) =>
      name === 'x' ? entries(1, 5) : entries(1, 4),
    );
    expect(changes.map((c) => [c.name, c.version, c.gap])).toEqual([
      ['a', 3, undefined],
      ['a', 4, undefined],
      ['x', 3, undefined],
      ['x', 4, undefined],
      ['x', 5, undefined],
    ]);
    expect(known.get('x')).toEqual({
      id: 'x-1',
      version: 5,
      deleted: false,
      revision: 70,
      fromRead: true,
      current: { value: 50 },
    });
  });

  it('reads no history for a variable defined once since, and none for one that did not change', async () => {
    const asked: string[] = [];
    const history = async (name: string) => (asked.push(name), entries(1, 1));
    const known = new Map([['same', { ...read(3, 30), id: 'same-1' }]]);
    const changes = await catchUpChanges(known, [record('fresh', 1, 7), record('same', 3, 30)], 40, history);
    expect(changes).toEqual([{ name: 'fresh', oldValue: undefined, newValue: 7, version: 1, updatedBy: null }]);
    expect(asked).toEqual([]);
  });
});
