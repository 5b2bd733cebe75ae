import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { createTrackingStore } from '../../src/nats/tracking-store.js';
import type { CommittedChange } from '../../src/nats/commit-announcer.js';
import { variableEventOf } from '../../src/nats/variable-events.js';
import type { VariableRecord } from '../../src/variables/types.js';

describe('the variable event of a write whose replaced record could not be read', () => {
  it('says its old value is left out, rather than pass for a definition', async () => {
    const inner = createMemoryStore<VariableRecord>();
    const errors: unknown[] = [];
    // JetStream did not answer the history read: the tracker has no old value to give the event.
    const store = createTrackingStore(
      { ...inner, history: () => Promise.reject(new Error('history unavailable')) },
      { onError: (error) => errors.push(error) },
    );
    const changes: CommittedChange[] = [];
    store.onCommitted((change) => changes.push(change));
    const record = { id: 'i', name: 't', type: 'integer', value: 1, version: 1 } as unknown as VariableRecord;
    // Written behind the tracker's back (another node): the update's old value must come from the history.
    const r = await inner.create('s.t', record);
    await store.update('s.t', { ...record, value: 2, version: 2 }, r);
    await store.settled();
    expect(errors).toHaveLength(1);
    const event = variableEventOf(changes[0]!);
    expect(event).toMatchObject({ name: 't', newValue: 2, version: 2, oldValueOmitted: true });
    expect(event).not.toHaveProperty('oldValue');
  });
});
