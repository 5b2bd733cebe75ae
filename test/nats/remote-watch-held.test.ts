import { describe, expect, it, vi } from 'vitest';
import { InternalError, NoProcError, PayloadTooLargeError, SessionError } from '../../src/index.js';
import { readVariablePages } from '../../src/nats/paged-reads.js';
import { HELD_MAX, watchRemote, type WatchReads } from '../../src/nats/remote-watch.js';
import { FAULT_TRIES } from '../../src/nats/watch-catch-up.js';
import { encodeRecord } from '../../src/nats/wire.js';
import type { VariableEvent } from '../../src/nats/variable-events.js';
import type { VariableChange } from '../../src/session/session-context.js';
import type { VariableHistoryEntry } from '../../src/session/variable-history.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { fakeTransport } from '../support/fake-remote-transport.js';
import { xWrite } from '../support/x-events.js';
import { integerRecord, versionTime } from '../support/integer-records.js';

const record = (version: number): VariableRecord => integerRecord('x', version, version * 10, 'x-1');

/** Version v of x is written at store revision 10 + v. */
const event = (version: number): VariableEvent => xWrite(version, null);

/** Versions 1..`last` of x, as its history reads. */
const history = (last: number): VariableHistoryEntry[] =>
  Array.from({ length: last }, (_, i) => ({
    version: i + 1,
    type: 'integer',
    value: (i + 1) * 10,
    updatedAt: versionTime(i + 1),
    updatedBy: null,
    reason: null,
  }));

describe('remote watch, held events', () => {
  it(`drops the held events past ${HELD_MAX} and reads again, delivering each missed version once`, async () => {
    const { fake, transport, emit, change } = fakeTransport();
    const last = HELD_MAX + 2;
    /** The client's revision at each read of the variables. */
    const listedAt: number[] = [];
    let releaseCatchUpRead!: () => void;
    const historyReads: string[] = [];
    const reads: WatchReads = {
      list: async () => {
        listedAt.push(fake.revision);
        // The first catch-up read waits while the events pour in; it answers as of before them.
        if (listedAt.length === 2) await new Promise<void>((resolve) => (releaseCatchUpRead = resolve));
        const version = listedAt.length <= 2 ? 1 : last;
        return { records: [record(version)], revisionOf: () => 10 + version };
      },
      history: async (name) => {
        historyReads.push(name);
        return history(last);
      },
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, 'x', (each) => changes.push(each), {}, reads);

    change('disconnected');
    change('reconnected');
    await vi.waitFor(() => expect(listedAt).toHaveLength(2));
    for (let version = 2; version <= last; version += 1) emit(event(version));
    releaseCatchUpRead();

    await vi.waitFor(() => expect(changes.at(-1)?.version).toBe(last));
    expect(changes.map((each) => each.version)).toEqual(Array.from({ length: last - 1 }, (_, i) => i + 2));
    expect(changes.every((each) => each.newValue === each.version * 10 && each.gap === undefined)).toBe(true);
    // The dropped events were read again from the history, by a read that reflects the last of them.
    expect(historyReads).toEqual(['x']);
    expect(listedAt).toHaveLength(3);
    expect(listedAt[2]).toBeGreaterThanOrEqual(10 + HELD_MAX + 1);
    expect(fake.reported).toEqual([]);
  });
});

describe('remote watch, an event that skips versions', () => {
  it('holds the events after a skip while it reads that variable, then delivers each version once, in order', async () => {
    const { fake, transport, emit } = fakeTransport();
    const lists: { pattern: string; revision: number }[] = [];
    let answer!: () => void;
    const reads: WatchReads = {
      list: async (pattern) => {
        lists.push({ pattern, revision: fake.revision });
        if (lists.length === 1) return { records: [record(1)], revisionOf: () => 11 };
        // The repair's read waits while more events arrive; it answers as of version 5.
        await new Promise<void>((resolve) => (answer = resolve));
        return { records: [record(5)], revisionOf: () => 15 };
      },
      history: async () => history(5),
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(event(2));
    // The next version: no read.
    expect(lists).toHaveLength(1);
    emit(event(4));
    await vi.waitFor(() => expect(lists).toHaveLength(2));
    // Version 3's event crossed version 4's on the wire; 5 and 6 come while the read is under way.
    emit(event(5));
    emit(event(3));
    emit(event(6));
    expect(changes.map((each) => each.version)).toEqual([2]);
    answer();

    await vi.waitFor(() => expect(changes.at(-1)?.version).toBe(6));
    expect(changes.map((each) => [each.version, each.oldValue, each.newValue, each.gap])).toEqual([
      [2, 10, 20, undefined],
      [3, 20, 30, undefined],
      [4, 30, 40, undefined],
      [5, 40, 50, undefined],
      [6, 50, 60, undefined],
    ]);
    // That variable alone, read at least as of the event that skipped.
    expect(lists[1]).toEqual({ pattern: 'x', revision: 14 });
    expect(fake.reported).toEqual([]);
  });
  // Found by a review: a history the nodes answered with internal_error (one they could not read) was read again for
  // ever, holding every later event of the session, and nobody was told.
  it(`delivers it marked, and the events after it, telling onError, when its history fails ${FAULT_TRIES} times`, async () => {
    const { fake, transport, emit } = fakeTransport();
    const historyReads: string[] = [];
    const reads: WatchReads = {
      list: async (pattern) => ({ records: [record(pattern === 'x' ? 3 : 1)], revisionOf: () => 13 }),
      history: async (name) => {
        historyReads.push(name);
        throw new InternalError("store key 's.x' holds a value that cannot be read");
      },
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(event(3));
    emit({ ...event(1), name: 'y', id: 'y-1', revision: 14 });

    await vi.waitFor(() => expect(changes).toHaveLength(2), { timeout: 5000 });
    expect(changes.map((each) => [each.name, each.version, each.oldValue, each.gap])).toEqual([
      ['x', 3, undefined, true],
      ['y', 1, 0, undefined],
    ]);
    expect(historyReads).toEqual(Array.from({ length: FAULT_TRIES }, () => 'x'));
    expect(fake.reported).toHaveLength(1);
    expect(fake.reported[0]).toBeInstanceOf(InternalError);
    expect((fake.reported[0] as Error).message).toBe("store key 's.x' holds a value that cannot be read");
    // Which watch gave up on which pattern, and that it gave up (rather than that one read failed).
    expect(fake.reportedWhere).toEqual([
      `watcher of session s: catching up on '*' (given up after ${FAULT_TRIES} tries)`,
    ]);
  });

  // Found by a review: held events released once the connection had closed for good each asked for a read that
  // ended at once, and released them again, until the stack overflowed.
  it('delivers it marked when the connection closed for good while its variable was read', async () => {
    const { fake, transport, emit } = fakeTransport();
    let historyReads = 0;
    const reads: WatchReads = {
      list: async (pattern) => ({ records: [record(pattern === 'x' ? 3 : 1)], revisionOf: () => 13 }),
      history: async () => {
        historyReads += 1;
        throw new NoProcError('session s');
      },
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (each) => changes.push(each), {}, reads);

    emit(event(3));
    await vi.waitFor(() => expect(historyReads).toBe(1));
    fake.closed = true;

    await vi.waitFor(() => expect(changes).toHaveLength(1), { timeout: 5000 });
    expect(changes.map((each) => [each.name, each.version, each.oldValue, each.gap])).toEqual([
      ['x', 3, undefined, true],
    ]);
    expect(fake.reported).toEqual([]);
  });

  it('takes a define made between two pages of a catch-up read as news, each name known at its own page', async () => {
    const { transport, emit, change } = fakeTransport();
    const at = (name: string, id: string, version: number, revision: number, deleted = false): VariableEvent => ({
      ...event(version),
      name,
      id,
      newValue: version,
      revision,
      ...(deleted ? { deleted: true } : {}),
    });
    let catchingUp = false;
    const reads: WatchReads = {
      list: () =>
        readVariablePages(async (after) => {
          if (!catchingUp)
            return {
              result: [integerRecord('a', 1, 1, 'a-1'), integerRecord('z', 1, 1, 'z-1')].map(encodeRecord),
              revision: 10,
            };
          if (after === undefined)
            throw new PayloadTooLargeError("reply to var.list of session 's'", 2_000_000, 1_048_576);
          if (after === '') {
            // Page 1 covers the names up to 'm' ('a', deleted, is not among them); 'a' is defined again right after.
            setTimeout(() => emit(at('a', 'a-2', 1, 13)), 0);
            return { result: { variables: [encodeRecord(integerRecord('m', 1, 1, 'm-1'))], next: 'm' }, revision: 12 };
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { result: { variables: [encodeRecord(integerRecord('z', 1, 1, 'z-1'))] }, revision: 14 };
        }),
      history: async () => [],
    };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (c) => void changes.push(c), {}, reads);
    emit(at('a', 'a-1', 2, 11, true));
    catchingUp = true;
    change('disconnected');
    change('reconnected');
    await vi.waitFor(() => expect(changes).toHaveLength(3));
    expect(changes.map((c) => `${c.name} v${c.version}${c.deleted ? ' deleted' : ''}`)).toEqual([
      'a v2 deleted',
      'm v1',
      // Defined again after page 1, which covers 'a' at revision 12: its define (revision 13) is news.
      'a v1',
    ]);
  });
});

describe('remote watch, its first read', () => {
  it('drops the delete it crossed of a variable the read did not find, and hears the variable defined after it', async () => {
    const { transport, emit } = fakeTransport();
    // x (version 2) was deleted at revision 13, before the read at 14, which found no x; the delete's event, from
    // another node, reaches this client after the read's reply.
    const reads: WatchReads = { list: async () => ({ records: [], revisionOf: () => 14 }), history: async () => [] };
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, '*', (c) => void changes.push(c), { includeInitial: true }, reads);
    const { newValue: _gone, ...deleted } = event(3);
    emit({ ...deleted, revision: 13, deleted: true });
    const { oldValue: _none, ...defined } = event(1);
    emit({ ...defined, id: 'x-2', revision: 15 });

    await vi.waitFor(() => expect(changes).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(changes.map((c) => [c.name, c.version, c.oldValue, c.newValue, c.deleted, c.gap])).toEqual([
      ['x', 1, undefined, 10, undefined, undefined],
    ]);
  });
});

describe('remote watch, catching up', () => {
  it('reads again, and delivers the write it missed, when the connection dropped while its first read was under way', async () => {
    const { transport, change } = fakeTransport();
    let lists = 0;
    let answerFirst!: () => void;
    const reads: WatchReads = {
      list: async () => {
        lists += 1;
        if (lists > 1) return { records: [record(2)], revisionOf: () => 12 };
        await new Promise<void>((resolve) => (answerFirst = resolve));
        return { records: [record(1)], revisionOf: () => 11 };
      },
      history: async () => history(2),
    };
    const changes: VariableChange[] = [];
    const starting = watchRemote(transport, 's', undefined, 'x', (each) => changes.push(each), {}, reads);
    await vi.waitFor(() => expect(lists).toBe(1));
    // Version 2 is written while the connection is down: its event never reaches the watch.
    change('disconnected');
    change('reconnected');
    answerFirst();
    await starting;

    await vi.waitFor(() => expect(changes).toHaveLength(1));
    expect(changes.map((each) => [each.version, each.oldValue, each.newValue, each.gap])).toEqual([
      [2, 10, 20, undefined],
    ]);
    expect(lists).toBe(2);
  });

  it('stops, telling the client the session ended, when a catch-up read finds the life it watches gone', async () => {
    const { fake, transport, emit, change } = fakeTransport();
    const gone = new SessionError('session_not_found', 's', { details: { incarnation: 'life-1' } });
    const reads = readsFailingAfterFirstList(gone);
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', 'life-1', 'x', (each) => changes.push(each), {}, reads);
    expect(fake.subscriptions).toBe(2);
    // The session is deleted while the connection is down: its end event never reaches the watch.
    change('disconnected');
    change('reconnected');

    await vi.waitFor(() => expect(fake.ended).toEqual([gone]));
    expect(fake.subscriptions).toBe(0);
    expect(fake.reported).toEqual([]);
    emit({ ...event(2), incarnation: 'life-1' });
    expect(changes).toEqual([]);
  });

  it('reports a catch-up read that finds no session and carries on, for a watch bound to no life', async () => {
    // A handle got with `create: false` follows the id: only the end event stops its watch, as before lives.
    const { fake, transport, emit, change } = fakeTransport();
    const gone = new SessionError('session_not_found', 's');
    const reads = readsFailingAfterFirstList(gone);
    const changes: VariableChange[] = [];
    await watchRemote(transport, 's', undefined, 'x', (each) => changes.push(each), {}, reads);
    change('disconnected');
    change('reconnected');

    await vi.waitFor(() => expect(fake.reported).toEqual([gone]));
    expect(fake.ended).toEqual([]);
    expect(fake.subscriptions).toBe(2);
    emit(event(2));
    expect(changes.map((each) => each.version)).toEqual([2]);
  });
});

/** Reads whose first list finds version 1 of `x` and whose every later list (a catch-up read) fails with `error`. */
function readsFailingAfterFirstList(error: Error): WatchReads {
  let lists = 0;
  return {
    list: async () => {
      lists += 1;
      if (lists > 1) throw error;
      return { records: [record(1)], revisionOf: () => 11 };
    },
    history: async () => history(1),
  };
}
