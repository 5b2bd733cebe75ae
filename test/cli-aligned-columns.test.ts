import { describe, expect, it } from 'vitest';
import { alignedColumns } from '../src/cli/aligned-columns.js';

describe('alignedColumns', () => {
  it('pads each column but the last to its widest cell, two spaces apart, after the indent', () => {
    expect(
      alignedColumns(
        [
          ['a', 'Predict', 'idle'],
          ['longer', 'CoT', 'executing'],
        ],
        '  ',
      ),
    ).toEqual(['  a       Predict  idle', '  longer  CoT      executing']);
  });

  it('leaves a short row short: a column is as wide as the rows that have a cell after it need', () => {
    expect(alignedColumns([['x', 'one'], ['wide cell']])).toEqual(['x  one', 'wide cell']);
    expect(alignedColumns([])).toEqual([]);
  });
});
