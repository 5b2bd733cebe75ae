import { describe, expect, it } from 'vitest';
import { errorLine } from '../src/cli/cli-errors.js';
import { reportTo } from '../src/cli/connection.js';
import { NoProcError } from '../src/errors.js';
import { historyLine, jsonLine, oneLine, recordLine, recordTable, shownText } from '../src/cli/output.js';
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

  it('escapes bidirectional overrides and isolates, which would show the rest of the line reversed', () => {
    // U+202E turns what follows it around on screen: `by "eve"` could read as another writer's name.
    const line = historyLine({
      version: 3,
      value: 'x\u202e',
      updatedAt: '2026-11-26T10:00:00.000Z',
      updatedBy: 'eve\u202e\u2066',
    } as Parameters<typeof historyLine>[0]);
    expect(line).toBe('v3  "x\\u202e"  2026-11-26T10:00:00.000Z  by "eve\\u202e\\u2066"');
    expect(JSON.parse(jsonLine({ v: 'a\u202ab\u2069' }))).toEqual({ v: 'a\u202ab\u2069' });
    // Right-to-left text and its one-character marks print as they are.
    expect(shownText('مرحبا\u200f أحمد')).toBe('مرحبا\u200f أحمد');
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

  // Found by mutation: a table that left the version column unpadded, or dropped a lock, passed every fast test.
  it('lists variables in aligned columns, the version padded too, a lock after the value', () => {
    const at = (version: number, lockedBy?: string) => ({ ...record(lockedBy), version });
    expect(recordTable([{ ...at(9), name: 'k', type: 'integer', value: 1 }, at(10, 'alice')])).toEqual([
      'k            integer  v9   1',
      'temperature  float    v10  0.45  (locked by alice)',
    ]);
  });
});

describe('the lines the CLI prints for scripts and on stderr', () => {
  it('writes JSON lines with C1 controls, DEL and the separators escaped: one line, the same JSON', () => {
    const value = { note: 'a\u0085b\u2028c\u009b2J\u007f', n: NaN };
    const line = jsonLine(value);
    expect(line).toBe('{"note":"a\\u0085b\\u2028c\\u009b2J\\u007f","n":"NaN"}');
    expect(JSON.parse(line)).toEqual({ ...value, n: 'NaN' });
  });

  it('makes a message one line: line breaks a space, other controls escaped', () => {
    expect(oneLine('  first\n  second\r\nthird ')).toBe('first second third');
    expect(oneLine('owner\r\u001b[2Kfake\u2028x')).toBe('owner\\u000d\\u001b[2Kfake\\u2028x');
  });

  it('prints connection news and background failures on one stderr line each, controls escaped', () => {
    const lines: string[] = [];
    const report = reportTo({ err: (line: string) => lines.push(line) } as unknown as Parameters<typeof reportTo>[0]);
    report(new Error('provider said:\nbusy\u001b[31m'), 'watching t\u2028x');
    expect(lines).toEqual(['tether: watching t\\u2028x: provider said: busy\\u001b[31m']);
  });

  it('asks whether a node runs only when no node answered, not of a noproc a node answered', () => {
    expect(errorLine(new NoProcError('tether.v1.session.s.var.get', { unserved: true }))).toBe(
      "tether: noproc: no tether node serves 'tether.v1.session.s.var.get': is a tether node running on this NATS " +
        '(tether serve), with the same --prefix (TETHER_PREFIX)?',
    );
    // A module's process that died, as a node answers it: the node runs.
    expect(errorLine(new NoProcError('module qa of session s'))).toBe(
      "tether: noproc: no process 'module qa of session s' is alive",
    );
  });
});
