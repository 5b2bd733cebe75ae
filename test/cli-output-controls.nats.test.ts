/**
 * The lines the CLI prints for people keep one line per item and never pass a control character to the terminal: a
 * variable's value (found by a review: JSON.stringify leaves C1 controls and the line separators raw), and the fields
 * of `tether inspect` lines, which whoever publishes on the inspect subjects writes.
 */
import { describe, expect, it } from 'vitest';
import { transitionLine } from '../src/cli/follow-commands.js';
import type { InspectedSnapshot } from '../src/nats/inspection.js';
import { useCliNode } from './support/cli-node.js';

const { tether } = useCliNode();

/** C0/C1 controls (but the line's own newline), DEL, and the Unicode line/paragraph separators. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
/** Where common line readers split (Python's str.splitlines, JS regexps' line terminators). */
const LINE_BREAKS = /\r\n|[\n\r\u0085\u2028\u2029\u000b\u000c\u001c-\u001e]/;

describe('cli human-readable lines', () => {
  it('var define/list/history print a value holding NEL, LINE SEPARATOR and CSI escaped, one line per item', async () => {
    const s = ['--session', 'controls'];
    const value = 'line1\u0085line2\u2028line3\u009b31mRED';
    const defined = await tether(['var', 'define', 'note', 'string', '-', ...s], value);
    expect(defined.code).toBe(0);
    await tether(['var', 'define', 'other', 'integer', '1', ...s]);
    const listed = await tether(['var', 'list', ...s]);
    const history = await tether(['var', 'history', 'note', ...s]);
    expect([listed.code, history.code]).toEqual([0, 0]);
    // Two variables: two rows; one version: one line.
    expect(listed.stdout.trimEnd().split(LINE_BREAKS)).toHaveLength(2);
    expect(history.stdout.trimEnd().split(LINE_BREAKS)).toHaveLength(1);
    for (const out of [defined.stdout, listed.stdout, history.stdout]) expect(out).not.toMatch(RAW_CONTROL);
  });

  it('tether inspect lines escape a node name, session or module id that carries an escape sequence', () => {
    // Anyone who can publish on <prefix>.v1.inspect.> (or start a node with --name $'\e[2J...') decides these fields.
    const line = transitionLine({
      machine: 'module',
      node: 'evil\u001b[2J\u001b[31m',
      sessionId: 's\u009b1m',
      moduleId: 'qa\nFAKE 00:00:00.000  node  s  session  x → y',
      event: { type: 'execute\u0007' },
      value: 'executing',
      status: 'active',
    } as unknown as InspectedSnapshot);
    expect(line).not.toMatch(RAW_CONTROL);
    expect(line.split(LINE_BREAKS)).toHaveLength(1);
  });
});
