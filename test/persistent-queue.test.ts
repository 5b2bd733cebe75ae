/**
 * The queues of waiting work (machines/persistent-queue.ts: a module's mailbox, a session's writes): arrival order,
 * every version staying as it was, so a snapshot an inspector kept shows what it showed, whatever the process
 * queued, took, replaced or removed since.
 */
import { describe, expect, it } from 'vitest';
import { emptyMailbox, type Mailbox } from '../machines/mailbox.js';
import type { Execution } from '../machines/module.types.js';

const execution = (executionId: string): Execution => Object.freeze({ executionId, inputs: {} });
const ids = (mailbox: Mailbox): string[] => [...mailbox].map((queued) => queued.executionId);

/** A small pseudo-random generator, so a failing sequence can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('a persistent queue (a module mailbox)', () => {
  it('gives its executions in arrival order, takes the first, and cancels any one by id', () => {
    let mailbox = emptyMailbox().with(execution('a')).with(execution('b')).with(execution('c'));
    expect(ids(mailbox)).toEqual(['a', 'b', 'c']);
    expect(mailbox.length).toBe(3);
    expect(mailbox.first?.executionId).toBe('a');
    expect(mailbox.has('b')).toBe(true);
    expect(mailbox.find('c')?.executionId).toBe('c');
    mailbox = mailbox.without('b');
    expect(ids(mailbox)).toEqual(['a', 'c']);
    expect(mailbox.has('b')).toBe(false);
    mailbox = mailbox.rest();
    expect(ids(mailbox)).toEqual(['c']);
    expect(mailbox.first?.executionId).toBe('c');
    // Cancelling what is not there changes nothing.
    expect(mailbox.without('zzz')).toBe(mailbox);
    expect(mailbox.rest().rest().length).toBe(0);
    expect(emptyMailbox().first).toBeUndefined();
  });

  it('leaves every earlier version as it was, however later ones change', () => {
    const one = emptyMailbox().with(execution('a')).with(execution('b'));
    const two = one.without('a').with(execution('c'));
    const three = two.rest();
    expect(ids(one)).toEqual(['a', 'b']);
    expect(one.has('a')).toBe(true);
    expect(one.find('b')?.executionId).toBe('b');
    expect(ids(two)).toEqual(['b', 'c']);
    expect(ids(three)).toEqual(['c']);
    // A change made to an earlier version (a transition computed from an old snapshot) makes a mailbox of its own.
    const branch = one.with(execution('x'));
    expect(ids(branch)).toEqual(['a', 'b', 'x']);
    expect(ids(three.with(execution('d')))).toEqual(['c', 'd']);
    expect(ids(one)).toEqual(['a', 'b']);
    expect(ids(two)).toEqual(['b', 'c']);
  });

  it('replaces its first item with one of the same key, leaving the versions before as they were', () => {
    const one = emptyMailbox().with(execution('a')).with(execution('b'));
    const moved = Object.freeze({ executionId: 'a', inputs: { step: 2 } });
    const two = one.withFirst(moved);
    expect(two.first).toBe(moved);
    expect(two.find('a')).toBe(moved);
    expect([...two]).toEqual([moved, execution('b')]);
    expect(one.first).toEqual(execution('a'));
    // Then added to, taken from and removed from as any other.
    expect(ids(two.with(execution('c')).without('b'))).toEqual(['a', 'c']);
    expect(two.with(execution('c')).first).toBe(moved);
    expect(ids(two.rest())).toEqual(['b']);
    expect(ids(two.without('a'))).toEqual(['b']);
    expect(emptyMailbox().withFirst(moved).length).toBe(0);
  });

  it('cannot be changed in place: it is frozen, and JSON shows it as the array of its executions', () => {
    const mailbox = emptyMailbox().with(execution('a'));
    expect(Object.isFrozen(mailbox)).toBe(true);
    expect(() => Object.assign(mailbox, { length: 0 })).toThrow(TypeError);
    expect(JSON.parse(JSON.stringify({ mailbox }))).toEqual({ mailbox: [{ executionId: 'a', inputs: {} }] });
    expect(emptyMailbox().toJSON()).toEqual([]);
  });

  it('agrees with a plain array through thousands of random changes, past its rebuilds, old versions too', () => {
    const next = random(7);
    let mailbox = emptyMailbox();
    let model: string[] = [];
    const kept: { mailbox: Mailbox; model: string[] }[] = [];
    let added = 0;
    for (let step = 0; step < 20_000; step++) {
      const roll = next();
      if (roll < 0.5 || model.length === 0) {
        const id = `e${added++}`;
        mailbox = mailbox.with(execution(id));
        model = [...model, id];
      } else if (roll < 0.65) {
        mailbox = mailbox.rest();
        model = model.slice(1);
      } else if (roll < 0.75) {
        // The same id, other inputs: what a session's write moving on to its next name looks like.
        mailbox = mailbox.withFirst(Object.freeze({ executionId: model[0]!, inputs: { step } }));
      } else {
        const id = model[Math.floor(next() * model.length)]!;
        mailbox = mailbox.without(id);
        model = model.filter((queued) => queued !== id);
      }
      expect(mailbox.length).toBe(model.length);
      expect(mailbox.first?.executionId).toBe(model[0]);
      if (model.length > 0) expect(mailbox.find(model[0])).toBe(mailbox.first);
      if (step % 1000 === 0) kept.push({ mailbox, model });
    }
    expect(ids(mailbox)).toEqual(model);
    for (const id of model) expect(mailbox.has(id)).toBe(true);
    expect(mailbox.has('e0')).toBe(model.includes('e0'));
    for (const old of kept) expect(ids(old.mailbox)).toEqual(old.model);
  });
});
