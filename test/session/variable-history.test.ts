import { describe, expect, it } from 'vitest';
import { historyOf } from '../../src/session/variable-history.js';
import type { StoreChange } from '../../src/store/store.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { integerRecord } from '../support/integer-records.js';

/** The puts of `x` at these versions (value = version × 10), in the order given, at increasing revisions. */
const puts = (...versions: number[]): StoreChange<VariableRecord>[] =>
  versions.map((version, i) => ({
    operation: 'put',
    key: 's.x',
    revision: 100 + i,
    value: integerRecord('x', version, version * 10),
  }));

const versionsOf = (current: VariableRecord, changes: StoreChange<VariableRecord>[]): number[] =>
  historyOf(current, changes).map((entry) => entry.version);

describe('a history read from the store while it is written', () => {
  it('keeps the unbroken run of versions at its end: a message pushed out during the read leaves a hole', async () => {
    expect(versionsOf(integerRecord('x', 6, 60), puts(1, 2, 4, 5, 6))).toEqual([4, 5, 6]);
    expect(versionsOf(integerRecord('x', 3, 30), puts(1, 2, 3))).toEqual([1, 2, 3]);
  });

  it("leaves out a batch's write above the session's view (its commit may still be undone), not a single write", async () => {
    const batchWrite: StoreChange<VariableRecord> = { ...puts(3)[0]!, revision: 300, commit: { id: 'c1', size: 2 } };
    expect(versionsOf(integerRecord('x', 2, 20), [...puts(1, 2), batchWrite])).toEqual([1, 2]);
    expect(versionsOf(integerRecord('x', 2, 20), puts(1, 2, 3))).toEqual([1, 2, 3]);
  });

  it("keeps a batch's write above the view once a later write was conditioned on it", async () => {
    const batchWrite: StoreChange<VariableRecord> = { ...puts(3)[0]!, revision: 300, commit: { id: 'c1', size: 2 } };
    const after: StoreChange<VariableRecord> = { ...puts(4)[0]!, revision: 301 };
    expect(versionsOf(integerRecord('x', 2, 20), [...puts(1, 2), batchWrite, after])).toEqual([1, 2, 3, 4]);
  });

  it('drops an undone version and keeps the one written after it', async () => {
    // 3 written, undone (2 put back), 3 written again by another write.
    const rewritten: StoreChange<VariableRecord> = {
      operation: 'put',
      key: 's.x',
      revision: 200,
      value: integerRecord('x', 3, 31),
    };
    const history = historyOf(integerRecord('x', 3, 31), [...puts(1, 2, 3, 2), rewritten]);
    expect(history.map((entry) => [entry.version, entry.value])).toEqual([
      [1, 10],
      [2, 20],
      [3, 31],
    ]);
  });

  it('keeps only the variable defined again, not the puts of the one deleted before it that the store still holds', async () => {
    // A delete's history drop lands a little after it on KV: the first variable's versions can still be read then.
    const deleted: StoreChange<VariableRecord> = { operation: 'delete', key: 's.x', revision: 200 };
    const again: StoreChange<VariableRecord> = {
      operation: 'put',
      key: 's.x',
      revision: 201,
      value: integerRecord('x', 1, 7, 'x-2'),
    };
    const history = historyOf(integerRecord('x', 1, 7, 'x-2'), [...puts(1, 2), deleted, again]);
    expect(history.map((entry) => [entry.version, entry.value])).toEqual([[1, 7]]);
  });
});
