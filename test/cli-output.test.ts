import { describe, expect, it } from 'vitest';
import { historyLine, recordLine, recordTable, shownText } from '../src/cli/output.js';
import type { VariableRecord } from '../src/variables/types.js';

const record = (lockedBy?: string) =>
  ({
    name: 'temperature',
    type: 'float',
    value: 0.45,
    version: 16,
    ...(lockedBy ? { lockedBy } : {}),
  }) as VariableRecord;

describe('the lines the CLI prints for people', () => {
  it('shows text a writer set as it is, or JSON-quoted when it holds a control character or a line break', () => {
    expect(shownText('alice')).toBe('alice');
    expect(shownText('Zoë ✓')).toBe('Zoë ✓');
    expect(shownText('bob\nmallory')).toBe('"bob\\nmallory"');
    // An escape sequence, a C1 control (CSI) and a line separator never reach the terminal raw.
    expect(shownText('\u001b[2Jx')).toBe('"\\u001b[2Jx"');
    expect(shownText('a\u009bb\u2028')).toBe('"a\\u009bb\\u2028"');
  });

  it('keeps one line per version, per variable and per lock, whatever who and why hold', () => {
    const lines = [
      historyLine({
        version: 16,
        value: 0.45,
        updatedAt: '2026-11-23T16:21:01.247Z',
        updatedBy: 'bob\nmallory',
        reason: 'line1\nline2',
      } as Parameters<typeof historyLine>[0]),
      recordLine(record('al\nice')),
      ...recordTable([record('al\nice')]),
    ];
    expect(lines[0]).toBe('v16  0.45  2026-11-23T16:21:01.247Z  by "bob\\nmallory"  ("line1\\nline2")');
    expect(lines[1]).toBe('temperature = 0.45  (float, v16, locked by "al\\nice")');
    for (const line of lines) expect(line).not.toMatch(/[\n\r]/);
  });
});
