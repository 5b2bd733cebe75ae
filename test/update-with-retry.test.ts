import { describe, expect, it } from 'vitest';
import { ValidationError, VersionConflictError } from '../src/errors.js';
import { updateWithRetry } from '../src/session/update-with-retry.js';
import type { VariableRecord } from '../src/variables/types.js';

/** A one-variable store whose writes lose to another writer `conflicts` times first. */
function racingVariable(conflicts: number) {
  let record = { name: 'n', value: 0, version: 1 } as unknown as VariableRecord;
  let lost = 0;
  return {
    read: async () => record,
    write: async (value: unknown, read: VariableRecord) => {
      const expectedVersion = read.version;
      if (lost < conflicts) {
        lost += 1;
        record = { ...record, value: (record.value as number) + 100, version: record.version + 1 };
      }
      if (expectedVersion !== record.version) throw new VersionConflictError('n', expectedVersion, record.version);
      record = { ...record, value, version: record.version + 1 };
      return record;
    },
  };
}

describe('updateWithRetry', () => {
  it('applies the function to the freshest value after each lost compare-and-set, backing off between', async () => {
    const variable = racingVariable(2);
    const pauses: number[] = [];
    const record = await updateWithRetry(
      variable.read,
      variable.write,
      (v) => (v as number) + 1,
      5,
      async (a) => {
        pauses.push(a);
      },
    );
    expect(record).toMatchObject({ value: 201, version: 4 });
    expect(pauses).toEqual([1, 2]);
  });

  it('throws the last conflict once the attempts are used up, and any other error at once', async () => {
    const losing = racingVariable(3);
    await expect(updateWithRetry(losing.read, losing.write, (v) => v, 3)).rejects.toBeInstanceOf(VersionConflictError);
    let calls = 0;
    const refused = updateWithRetry(
      racingVariable(0).read,
      async () => {
        calls += 1;
        throw new ValidationError('no');
      },
      (v) => v,
      5,
    );
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
  });
});
