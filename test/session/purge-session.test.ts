import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/index.js';
import { purgeSessionKeys } from '../../src/session/purge-session.js';

describe('purgeSessionKeys', () => {
  it('leaves a key written since the revision its session last saw, and purges the others', async () => {
    const store = createMemoryStore<number>();
    const seen = await store.create('s.a', 1);
    const b = await store.create('s.b', 1);
    // Another runtime sharing the store writes `a` after this one's process last saw it: the key is in use there.
    await store.update('s.a', 2, seen);
    const outcome = await purgeSessionKeys(store, 's', {
      expected: new Map([
        ['s.a', seen],
        ['s.b', b],
      ]),
    });
    expect(outcome.changed).toEqual(['s.a']);
    expect([...outcome.purged.keys()]).toEqual(['s.b']);
    expect(await store.get('s.a')).toMatchObject({ value: 2 });
    expect(await store.get('s.b')).toBeUndefined();
  });
});
