import { describe, expect, it } from 'vitest';
import { InternalError, PayloadTooLargeError, ValidationError } from '../../src/index.js';
import { readHistoryPages, readVariablePages } from '../../src/nats/paged-reads.js';
import { collectGarbage } from '../support/collect-garbage.js';

const record = (name: string) => ({
  id: `id-${name}`,
  name,
  type: 'integer',
  value: 1,
  constraints: {},
  metadata: {},
  version: 1,
  updatedAt: '2026-01-01T00:00:00.000Z',
  updatedBy: null,
  reason: null,
  lock: null,
});
const entry = (version: number) => ({
  version,
  type: 'float',
  value: 'NaN',
  updatedAt: '2026-01-01T00:00:00.000Z',
  updatedBy: null,
  reason: null,
});
const tooLarge = () => new PayloadTooLargeError("reply to var.list of session 's'", 2_000_000, 1_048_576);

describe('paged reads', () => {
  it('asks once, unpaged, as every node answers, when the list fits in one reply', async () => {
    const asked: (string | undefined)[] = [];
    const read = await readVariablePages(async (after) => {
      asked.push(after);
      return { result: [record('a'), record('b')], revision: 7 };
    });
    expect(asked).toEqual([undefined]);
    expect(read.records.map((r) => r.name)).toEqual(['a', 'b']);
    expect([read.revisionOf('a'), read.revisionOf('zz')]).toEqual([7, 7]);
  });

  it('keeps none of the raw reply in revisionOf, which a remote watch holds for as long as it lives', async () => {
    // A watch of '*' on a session of 1,111 variables held some 360 KB of undecoded records this way, per watch.
    let raw: WeakRef<unknown[]> | undefined;
    const read = await readVariablePages(async () => {
      const result = [record('a'), record('b')];
      raw = new WeakRef(result);
      return { result, revision: 7 };
    });
    const { revisionOf } = read;
    // WeakRef targets stay until the current job ends: collect on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(raw?.deref()).toBeUndefined();
    expect(revisionOf('a')).toBe(7);
  });

  it('pages a list too large for one reply, each name known at the revision of the page that covers it', async () => {
    const asked: (string | undefined)[] = [];
    const pages: Record<string, { result: unknown; revision: number }> = {
      '': { result: { variables: [record('a'), record('c')], next: 'c' }, revision: 7 },
      c: { result: { variables: [record('d')] }, revision: 9 },
    };
    const read = await readVariablePages(async (after) => {
      asked.push(after);
      if (after === undefined) throw tooLarge();
      return pages[after]!;
    });
    expect(asked).toEqual([undefined, '', 'c']);
    expect(read.records.map((r) => r.name)).toEqual(['a', 'c', 'd']);
    // 'b' was not found by the first page, which covers it; 'z' by the last.
    expect(['a', 'b', 'c', 'd', 'z'].map((name) => read.revisionOf(name))).toEqual([7, 7, 7, 9, 9]);
  });

  it('pages a history too large for one reply, each value decoded for its type', async () => {
    const asked: (number | undefined)[] = [];
    const entries = await readHistoryPages('t', async (after) => {
      asked.push(after);
      if (after === undefined) throw tooLarge();
      return after === 0
        ? { type: 'float', id: 'v1', entries: [entry(1), entry(2)], next: 2 }
        : { type: 'float', id: 'v1', entries: [entry(3)] };
    });
    expect(asked).toEqual([undefined, 0, 2]);
    expect(entries.map((e) => [e.version, e.value])).toEqual([
      [1, NaN],
      [2, NaN],
      [3, NaN],
    ]);
  });

  it('reads a history again from the start when its variable was defined again between two pages', async () => {
    let defined = 'old';
    const asked: (number | undefined)[] = [];
    const entries = await readHistoryPages('t', async (after) => {
      asked.push(after);
      if (after === undefined) throw tooLarge();
      if (after === 0 && asked.length === 2) return { type: 'float', id: defined, entries: [entry(1)], next: 1 };
      defined = 'new';
      return after === 0
        ? { type: 'float', id: 'new', entries: [entry(1)], next: 1 }
        : { type: 'float', id: 'new', entries: [entry(2)] };
    });
    expect(asked).toEqual([undefined, 0, 1, 0, 1]);
    expect(entries.map((e) => e.version)).toEqual([1, 2]);
    // Defined again at every page: it gives up rather than page for ever.
    let generation = 0;
    await expect(
      readHistoryPages('t', async (after) => {
        if (after === undefined) throw tooLarge();
        generation += 1;
        return { type: 'float', id: `v${generation}`, entries: [entry(after + 1)], next: after + 1 };
      }),
    ).rejects.toThrow("variable 't' was defined again 3 times while its history was read a page at a time");
  });

  it('says the answer is too large when the node is of a version that does not page (it refuses after)', async () => {
    const refusal = tooLarge();
    const unpaging = new ValidationError('list got unknown field after; accepted: pattern, tagged', {
      details: { operation: 'list', unknown: ['after'], accepted: ['pattern', 'tagged'] },
    });
    await expect(
      readVariablePages(async (after) => {
        throw after === undefined ? refusal : unpaging;
      }),
    ).rejects.toBe(refusal);
    await expect(
      readHistoryPages('t', async (after) => {
        throw after === undefined ? refusal : unpaging;
      }),
    ).rejects.toBe(refusal);
  });

  it('passes on any other failure of the first request, and refuses a page whose next does not move on', async () => {
    const failure = new InternalError('store down');
    await expect(
      readVariablePages(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    // A node that answers the page after 'a' with 'a' again.
    await expect(
      readVariablePages(async (after) => {
        if (after === undefined) throw tooLarge();
        return { result: { variables: [record('a')], next: 'a' }, revision: 1 };
      }),
    ).rejects.toThrow(new InternalError('malformed var.list reply from a tether node'));
    await expect(readVariablePages(async () => ({ result: { variables: [] }, revision: 1 }))).rejects.toBeInstanceOf(
      InternalError,
    );
    await expect(
      readHistoryPages('t', async (after) => {
        if (after === undefined) throw tooLarge();
        return { type: 'float', entries: [], next: 0 };
      }),
    ).rejects.toThrow('malformed var.history reply from a tether node');
  });
});
