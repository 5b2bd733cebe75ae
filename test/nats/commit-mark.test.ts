import { describe, expect, it } from 'vitest';
import { isMarked, markOf, markUndo, markWrite, withoutMark } from '../../src/nats/commit-mark.js';
import { variableRecordCodec } from '../../src/nats/record-codec.js';
import type { VariableRecord } from '../../src/variables/types.js';

const record: VariableRecord = {
  id: 'v1',
  name: 'x',
  type: 'float',
  value: Number.NaN,
  constraints: {},
  description: null,
  metadata: {},
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  updatedBy: null,
  lockedBy: null,
} as unknown as VariableRecord;

/** A batch's records carry their commit in their bytes (commit-mark.ts); what is decoded never shows it. */
describe('commit marks on stored records', () => {
  const codec = variableRecordCodec();
  const plain = codec.encode(record);

  it('names the commit and its size on a batch write, and decodes to the record as written', () => {
    const marked = markWrite(plain, 'c-1', 3);
    expect(isMarked(plain)).toBe(false);
    expect(isMarked(marked)).toBe(true);
    expect(markOf(marked)).toEqual({ id: 'c-1', size: 3 });
    expect(withoutMark(marked)).toEqual(plain);
    expect(codec.decode(withoutMark(marked))).toEqual(codec.decode(plain));
  });

  it('marks an undo with the commit it undoes, replacing the mark the record put back had', () => {
    const undo = markUndo(markWrite(plain, 'c-0', 2), 'c-1');
    expect(markOf(undo)).toEqual({ undoes: 'c-1' });
    expect(withoutMark(undo)).toEqual(plain);
  });
});
