import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { RevisionUnknownError, ValidationError } from '../../src/errors.js';
import { Runtime } from '../../src/node/runtime.js';
import type { CommittedChange } from '../../src/nats/commit-announcer.js';
import { ROUTED_WAIT_MARGIN_MS, createTrackingStore } from '../../src/nats/tracking-store.js';
import { WatchOutage } from '../../src/nats/watch-outage.js';
import { variableEventOf } from '../../src/nats/variable-events.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/store.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Has `store` update key `s.t`, which `inner` (the bucket) holds at version 1 from a write the tracker never saw
 * (another node's): the update's old value must come from the history. Resolves with what the tracker told.
 */
async function updateWrittenBehind(
  store: ReturnType<typeof createTrackingStore>,
  inner: Store<VariableRecord>,
): Promise<CommittedChange[]> {
  const changes: CommittedChange[] = [];
  store.onCommitted((change) => changes.push(change));
  const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
  const r = await inner.create('s.t', record);
  await store.update('s.t', { ...record, value: 2, version: 2 }, r);
  await store.settled();
  return changes;
}

/** A memory store that counts history reads: the tracking store reads history only on a cache miss. */
function countingStore(): { store: Store<VariableRecord>; historyReads: () => number } {
  const inner = createMemoryStore<VariableRecord>();
  let reads = 0;
  return {
    store: {
      ...inner,
      history: (key) => {
        reads += 1;
        return inner.history(key);
      },
    },
    historyReads: () => reads,
  };
}

describe('tracking store', () => {
  it('reports each committed write once with the record it replaced, and no event for a lock', async () => {
    const store = createTrackingStore(createMemoryStore<VariableRecord>());
    const changes: CommittedChange[] = [];
    store.onCommitted((change) => changes.push(change));
    const runtime = await Runtime.start({ store });
    const session = await runtime.session('s');
    await session.defineVariable('t', 'integer', 1);
    await session.setVariable('t', 2);
    await session.lockVariable('t', 'me');
    await session.deleteVariable('t', { updatedBy: 'me' });
    await store.settled();
    expect(changes.map((c) => [c.before?.value, c.after?.value])).toEqual([
      [undefined, 1],
      [1, 2],
      [2, 2],
      [2, undefined],
    ]);
    const events = changes.map(variableEventOf);
    expect(events[2]).toBeUndefined();
    expect(events[3]).toMatchObject({ sessionId: 's', name: 't', oldValue: 2, deleted: true, version: 3 });
    expect(store.highestRevision).toBe(changes.at(-1)?.revision);
    await runtime.stop();
  });

  it('finds the replaced record in history when the cache does not have it', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const changes = await updateWrittenBehind(createTrackingStore(inner), inner);
    expect(changes[0]?.before?.value).toBe(1);
  });

  it('finds the replaced record in history when the cache holds another revision of the key', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const store = createTrackingStore(inner);
    const changes: CommittedChange[] = [];
    store.onCommitted((change) => changes.push(change));
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    const r1 = await store.create('s.t', record);
    // The session's load caches the key at its first revision; another node then writes it behind the tracker's back.
    await store.list('s.');
    const r2 = await inner.update('s.t', { ...record, value: 2, version: 2 }, r1);
    await store.update('s.t', { ...record, value: 3, version: 3 }, r2);
    await store.settled();
    expect(changes.map((c) => [c.before?.value, c.after?.value])).toEqual([
      [undefined, 1],
      [2, 3],
    ]);
  });

  it('tells commits in commit order while an earlier one waits for its history lookup', async () => {
    const inner = createMemoryStore<VariableRecord>();
    let answerHistory!: () => void;
    const historyHeld = new Promise<void>((resolve) => (answerHistory = resolve));
    const store = createTrackingStore({ ...inner, history: (key) => historyHeld.then(() => inner.history(key)) });
    const changes: CommittedChange[] = [];
    store.onCommitted((change) => changes.push(change));
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    // Written behind the tracker's back: the update's old value comes from history, after its commit.
    const r = await inner.create('s.t', record);
    await store.update('s.t', { ...record, value: 2, version: 2 }, r);
    // Needs no lookup (a definition replaces nothing), yet is told after the write committed before it.
    await store.create('s.u', { ...record, name: 'u', value: 9 });
    expect(changes).toEqual([]);
    answerHistory();
    await store.settled();
    expect(changes.map((c) => [c.key, c.before?.value, c.after?.value])).toEqual([
      ['s.t', 1, 2],
      ['s.u', undefined, 9],
    ]);
  });

  it('names the life noted when a write committed, though its event waits for a history lookup', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const store = createTrackingStore(inner);
    const changes: CommittedChange[] = [];
    store.onCommitted((change) => changes.push(change));
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    // Unnoted (an embedded runtime's store, or a process whose life is not known yet): no life is named.
    await store.create('u.t', record);
    // Written behind the tracker's back, so the update's old value comes from history, after the commit.
    const r = await inner.create('s.t', record);
    store.noteLife('s', 'life-1');
    await store.update('s.t', { ...record, value: 2, version: 2 }, r);
    // Before the lookup is done the id serves another life here: the change is still the first life's.
    store.forgetSession('s');
    store.noteLife('s', 'life-2');
    await store.settled();
    expect(changes.map((c) => [c.key, c.incarnation])).toEqual([
      ['u.t', undefined],
      ['s.t', 'life-1'],
    ]);
    expect(changes[1]?.before?.value).toBe(1);
    expect(variableEventOf(changes[1]!)).toMatchObject({ sessionId: 's', incarnation: 'life-1', newValue: 2 });
    expect(variableEventOf(changes[0]!)).not.toHaveProperty('incarnation');
  });

  it('counts a revision as applied only once the router has handed it on, and times waits out', async () => {
    let last = 0;
    const store = createTrackingStore(createMemoryStore<VariableRecord>(), { lastRevision: async () => last });
    const handed: number[] = [];
    const watch = store.watch('', (change) => handed.push(change.revision), { includeCurrent: false });
    await watch.ready;
    // The store has revision 5 (written by another node, say) that the router has not handed on.
    last = 5;
    const waiting = store.waitForRevision(1, 5000);
    expect(await store.waitForRevision(5, 10)).toBe(false);
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    await store.create('s.t', record);
    expect(await waiting).toBe(true);
    expect(handed).toEqual([1]);
    expect(store.appliedRevision).toBe(1);
    watch.stop();
  });

  it('refuses a wait for a revision above the store last one, and waits on for one the store has', async () => {
    let last = 3;
    const store = createTrackingStore(createMemoryStore<VariableRecord>(), {
      lastRevision: async () => last,
      bucket: 'vars_b',
      unknownRevisionGraceMs: 0,
    });
    const watch = store.watch('', () => {}, { includeCurrent: false });
    await watch.ready;
    const refused = await store.waitForRevision(10, 5000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RevisionUnknownError);
    expect(refused).toMatchObject({ bucket: 'vars_b', minRevision: 10, currentRevision: 3 });
    // The store has it, the router has not handed it on yet: wait, as before.
    last = 10;
    expect(await store.waitForRevision(10, 20)).toBe(false);
    watch.stop();
  });

  it('waits for the router past its commit hold, and gives up on a revision the store does not hold', async () => {
    const store = createTrackingStore(createMemoryStore<VariableRecord>(), {
      lastRevision: async () => 1,
      commitHoldMs: 0,
      unknownRevisionGraceMs: 0,
    });
    const watch = store.watch('', () => {}, { includeCurrent: false });
    await watch.ready;
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    const routed = store.waitUntilRouted(1);
    await store.create('s.t', record);
    expect(await routed).toBe(true);
    // A session's conflict handling waits on this and folds in what it re-read either way: it must not reject.
    expect(await store.waitUntilRouted(10)).toBe(false);
    watch.stop();
  });

  it("gives up waiting for the router at its bound while the router's watch is down (a write holds its queue)", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const outage = new WatchOutage();
    let last = 0;
    const store = createTrackingStore(createMemoryStore<VariableRecord>(), {
      lastRevision: async () => last,
      commitHoldMs: 0,
      outage,
    });
    const watch = store.watch('', () => {}, { includeCurrent: false });
    await watch.ready;
    // Written elsewhere while this node's connection is down: the router has not got there.
    last = 10;
    outage.began();
    let settled: boolean | undefined;
    void store.waitUntilRouted(5).then((routed) => (settled = routed));
    // Its bound (the hold, 0 here, and the margin), not the read-your-writes wait's ride through the outage.
    await vi.advanceTimersByTimeAsync(ROUTED_WAIT_MARGIN_MS + 1);
    expect(settled).toBe(false);
    watch.stop();
  });

  it('passes fromRevision through to the inner store, and counts the replayed revisions as applied', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    await inner.create('s.a', record);
    const r2 = await inner.create('s.b', record);
    const r3 = await inner.create('t.a', record);
    const store = createTrackingStore(inner, { lastRevision: async () => r3 });
    const routed: number[] = [];
    const router = store.watch('', (change) => routed.push(change.revision), { fromRevision: r2 });
    await router.ready;
    expect(routed).toEqual([r2, r3]);
    expect(store.appliedRevision).toBe(r3);
    const session: number[] = [];
    await store.watch('t.', (change) => session.push(change.revision), { fromRevision: r2 }).ready;
    expect(session).toEqual([r3]);
    router.stop();
  });

  it('refuses bad watch options like its inner store, leaving no router behind that holds waits', async () => {
    const store = createTrackingStore(createMemoryStore<VariableRecord>(), { lastRevision: async () => 0 });
    expect(() => store.watch('', () => {}, { fromRevision: 0 })).toThrow(ValidationError);
    expect(() => store.watch('s.', () => {}, { fromRevision: 1, includeCurrent: true })).toThrow(ValidationError);
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    // Without a router, this node's own writes count as applied; a refused router would hold them at 0.
    const revision = await store.create('s.t', record);
    expect(store.appliedRevision).toBe(revision);
  });

  it('forgets the records of a session whose process ended on the node, and caches them again on its next load', async () => {
    const counting = countingStore();
    const store = createTrackingStore(counting.store);
    const befores: unknown[] = [];
    store.onCommitted((change) => befores.push(change.before?.value));
    const runtime = await Runtime.start({ store, onError: () => {} });
    await (await runtime.session('s')).defineVariable('t', 'integer', 1);
    await (await runtime.session('s')).setVariable('t', 2);
    await store.settled();
    expect(counting.historyReads()).toBe(0);

    await runtime.stopProcess('tether.session.s');
    await waitFor(() => !runtime.sessionIds().includes('s'));
    // Forgotten: a write to the key now finds its replaced record in history, not in the cache.
    const [entry] = await counting.store.list('s.');
    await store.update('s.t', { ...entry!.value, value: 3, version: 3 }, entry!.revision);
    await store.settled();
    expect(counting.historyReads()).toBe(1);

    // Loaded again: the cache has the session's records, and writes find what they replace there.
    await (await runtime.session('s')).setVariable('t', 4);
    await store.settled();
    expect(counting.historyReads()).toBe(1);
    expect(befores).toEqual([undefined, 1, 2, 3]);
    await runtime.stop();
  });
});

// Found by the events audit: such an event went out without its old value and without a mark, as a define does.
describe('the variable event of a write whose replaced record could not be read', () => {
  it('says its old value is left out, rather than pass for a definition', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const errors: unknown[] = [];
    // JetStream did not answer the history read: the tracker has no old value to give the event.
    const store = createTrackingStore(
      { ...inner, history: () => Promise.reject(new Error('history unavailable')) },
      { onError: (error) => errors.push(error) },
    );
    const changes = await updateWrittenBehind(store, inner);
    expect(errors).toHaveLength(1);
    const event = variableEventOf(changes[0]!);
    expect(event).toMatchObject({ name: 't', newValue: 2, version: 2, oldValueOmitted: true });
    expect(event).not.toHaveProperty('oldValue');
  });
});
