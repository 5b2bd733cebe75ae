import { describe, expect, it } from 'vitest';
import { canMark, isMarked, markOf, markUndo, markWrite, withoutMark } from '../../src/nats/commit-mark.js';
import { variableRecordCodec } from '../../src/nats/record-codec.js';
import type { VariableRecord } from '../../src/variables/types.js';

const record: VariableRecord = {
  id: 'v1',
  name: 'x',
  type: 'float',
  value: Number.NaN,
  constraints: {},
  description: '',
  metadata: {},
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  updatedBy: null,
  reason: null,
  lockedBy: null,
};

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

  it('takes a record only by the whole mark, and marks only compact JSON objects', () => {
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    const text = (data: Uint8Array): string => new TextDecoder().decode(data);
    // A first field that merely starts with `~` is no mark: nothing is stripped.
    const tilde = bytes('{"~x":"abc","y":"z"}');
    expect(isMarked(tilde)).toBe(false);
    expect(withoutMark(tilde)).toBe(tilde);
    // The empty object takes a mark and gives it back; a spaced object, an array or a number take none.
    expect(text(markWrite(bytes('{}'), 'c', 2))).toBe('{"~tc":"w:c:2"}');
    expect(text(withoutMark(markWrite(bytes('{}'), 'c', 2)))).toBe('{}');
    for (const other of ['{ }', '[1]', '42']) {
      expect(canMark(bytes(other))).toBe(false);
      expect(text(markWrite(bytes(other), 'c', 2))).toBe(other);
    }
  });
});
