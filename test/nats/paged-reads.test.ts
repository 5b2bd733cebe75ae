import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/index.js';
import { readHistoryPages, readVariablePages } from '../../src/nats/paged-reads.js';

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

describe('paged reads', () => {
  it('reads the variables page after page, with the highest revision of the pages', async () => {
    const asked: string[] = [];
    const pages: Record<string, { result: unknown; revision: number }> = {
      '': { result: { variables: [record('a'), record('b')], next: 'b' }, revision: 7 },
      b: { result: { variables: [record('c')] }, revision: 9 },
    };
    const read = await readVariablePages(async (after) => (asked.push(after), pages[after]!));
    expect(asked).toEqual(['', 'b']);
    expect(read.records.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(read.revision).toBe(9);
  });

  it('reads the versions page after page, each value decoded for its type', async () => {
    const asked: number[] = [];
    const entries = await readHistoryPages(async (after) => {
      asked.push(after);
      return after === 0 ? { type: 'float', entries: [entry(1), entry(2)], next: 2 } : { entries: [entry(3)] };
    });
    expect(asked).toEqual([0, 2]);
    expect(entries.map((e) => [e.version, e.value])).toEqual([
      [1, NaN],
      [2, NaN],
      [3, NaN],
    ]);
  });

  it('refuses a page whose next does not move on (it would page for ever) or that is malformed', async () => {
    // A node that answers the page after 'a' with 'a' again.
    await expect(
      readVariablePages(async () => ({ result: { variables: [record('a')], next: 'a' }, revision: 1 })),
    ).rejects.toBeInstanceOf(InternalError);
    await expect(
      readVariablePages(async (after) => ({ result: { variables: [], next: after }, revision: 1 })),
    ).rejects.toThrow(new InternalError('malformed var.list page from a tether node'));
    await expect(readVariablePages(async () => ({ result: [record('a')], revision: 1 }))).rejects.toBeInstanceOf(
      InternalError,
    );
    await expect(readHistoryPages(async () => ({ type: 'float', entries: [], next: 0 }))).rejects.toThrow(
      'malformed var.history page from a tether node',
    );
    await expect(readHistoryPages(async () => ({ type: 'float', entries: [], next: '5' }))).rejects.toBeInstanceOf(
      InternalError,
    );
  });
});
