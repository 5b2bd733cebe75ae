import { describe, expect, it } from 'vitest';
import { absentKey, applyStoreChanges, hasNews, type VariablesView } from '../../src/session/apply-store-change.js';
import type { StoreChange } from '../../src/store/store.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { integerRecord } from '../support/integer-records.js';

const put = (name: string, version: number, revision: number): StoreChange<VariableRecord> => ({
  operation: 'put',
  key: `s1.${name}`,
  value: integerRecord(name, version, version * 10),
  revision,
});

/** A view that has applied `a` at revision 5 and `b` at revision 7. */
function view(): VariablesView {
  const seen: VariablesView = { variables: new Map(), revisions: new Map() };
  applyStoreChanges(seen, 's1', [put('a', 1, 5), put('b', 1, 7)]);
  return seen;
}

// The router hands a session only batches `hasNews` accepts: it must agree with what applyStoreChanges folds in.
describe('hasNews', () => {
  it('says no for changes the view already applied (a node hearing its own commit again)', () => {
    const changes = [put('a', 1, 5), put('b', 1, 7), put('a', 1, 3)];
    expect(hasNews(view(), 's1', changes)).toBe(false);
    const unchanged = view();
    expect(applyStoreChanges(unchanged, 's1', changes)).toEqual([]);
    expect(unchanged.revisions).toEqual(view().revisions);
  });

  it('says yes when one change of the batch is past its name, and for a name the view never saw', () => {
    const later = [put('a', 1, 5), put('b', 2, 8)];
    expect(hasNews(view(), 's1', later)).toBe(true);
    expect(applyStoreChanges(view(), 's1', later).map((change) => change.name)).toEqual(['b']);
    const unknown: StoreChange<VariableRecord> = { operation: 'delete', key: 's1.c', revision: 2 };
    expect(hasNews(view(), 's1', [unknown])).toBe(true);
  });
});

describe('applyStoreChanges', () => {
  it('tells watchers of the next version with the old value, and of a later one as a gap without it', () => {
    const seen = view();
    expect(applyStoreChanges(seen, 's1', [put('a', 2, 9)])).toEqual([
      { name: 'a', oldValue: 10, newValue: 20, version: 2, updatedBy: null },
    ]);
    // Versions 3 and 4 never reached this view (its node's watch lagged past a write's conflict wait).
    expect(applyStoreChanges(seen, 's1', [put('a', 5, 12)])).toEqual([
      { name: 'a', oldValue: undefined, newValue: 50, version: 5, updatedBy: null, gap: true },
    ]);
  });

  /** A put of `a` defined again (id a-2), at `version` of the new variable, that this view has not seen. */
  const definedAgain = (version: number): StoreChange<VariableRecord> => ({
    operation: 'put',
    key: 's1.a',
    value: integerRecord('a', version, 7, 'a-2'),
    revision: 9,
  });

  it('tells of a variable defined again meanwhile as a missed delete first, then the new one without the old value', () => {
    const seen = view();
    expect(applyStoreChanges(seen, 's1', [definedAgain(1)])).toEqual([
      { name: 'a', oldValue: undefined, newValue: undefined, version: 2, updatedBy: null, deleted: true, gap: true },
      { name: 'a', oldValue: undefined, newValue: 7, version: 1, updatedBy: null },
    ]);
    expect(seen.variables.get('a')?.id).toBe('a-2');
  });

  it('tells of a variable defined again and written meanwhile as a gap: its earlier versions were missed too', () => {
    expect(applyStoreChanges(view(), 's1', [definedAgain(3)])).toEqual([
      { name: 'a', oldValue: undefined, newValue: undefined, version: 2, updatedBy: null, deleted: true, gap: true },
      { name: 'a', oldValue: undefined, newValue: 7, version: 3, updatedBy: null, gap: true },
    ]);
  });
});

// Found by a review: a key a stream purge from outside left with no message was read after a lost race as revision 0,
// which is never news, so the view kept the variable and every retry of the write expected it again.
describe('applyStoreChanges of a key read with no message at all', () => {
  const absent = absentKey('s1.a');

  it('drops the name the view holds at the revision the write was planned on, and forgets that revision', () => {
    const seen = view();
    expect(applyStoreChanges(seen, 's1', [absent], new Map([['s1.a', 5]]))).toEqual([
      { name: 'a', oldValue: 10, newValue: undefined, version: 2, updatedBy: null, deleted: true },
    ]);
    expect(seen.variables.has('a')).toBe(false);
    expect(seen.revisions.has('a')).toBe(false);
  });

  it('leaves the name alone when the view has a newer change of it, or no write planned on it', () => {
    const moved = view();
    applyStoreChanges(moved, 's1', [put('a', 1, 9)]);
    expect(applyStoreChanges(moved, 's1', [absent], new Map([['s1.a', 5]]))).toEqual([]);
    expect(moved.revisions.get('a')).toBe(9);
    const routed = view();
    expect(hasNews(routed, 's1', [absent])).toBe(false);
    expect(applyStoreChanges(routed, 's1', [absent])).toEqual([]);
    expect(routed.variables.has('a')).toBe(true);
  });
});
