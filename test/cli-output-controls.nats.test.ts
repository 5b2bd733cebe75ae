/**
 * The lines the CLI prints keep one line per item and never pass a control character to the terminal: a variable's
 * value for people and in JSON lines (found by reviews: JSON.stringify leaves C1 controls and the line separators raw),
 * an error line quoting text another writer chose, and the fields of `tether inspect` lines, which whoever publishes on
 * the inspect subjects writes.
 */
import { describe, expect, it } from 'vitest';
import { transitionLine } from '../src/cli/follow-commands.js';
import type { InspectedSnapshot } from '../src/nats/inspection.js';
import { connect, type RemoteSession } from '../src/index.js';
import { useCliNode } from './support/cli-node.js';

const { tether, inProcess, start, server } = useCliNode();

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

/** Another client, as another service would: it locks or writes with text of its choosing. */
async function asAnotherWriter(sessionId: string, task: (session: RemoteSession) => Promise<unknown>): Promise<void> {
  const client = await connect({ servers: server().url });
  try {
    await task(await client.session(sessionId));
  } finally {
    await client.close();
  }
}

describe('cli lines quoting what another writer set', () => {
  it("a variable_locked error names the lock's owner escaped, on exactly one stderr line", async () => {
    const sid = 'lock-owner-controls';
    // A lock owner is any non-empty string of up to 256 characters: here one that would erase the terminal line and
    // print a fake success after a carriage return.
    const owner = 'mallory\r\u001b[2Ktether: ok: all good\u2028x';
    await asAnotherWriter(sid, async (session) => {
      await session.defineVariable('t', 'float', 0.5);
      await session.lockVariable('t', owner);
    });
    const refused = await inProcess(['var', 'set', 't', '1', '--session', sid]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tether: variable_locked: .*mallory\\u000d\\u001b\[2Ktether: ok/);
    expect(refused.stderr.trimEnd().split(LINE_BREAKS)).toHaveLength(1);
    expect(refused.stderr.trimEnd()).not.toMatch(RAW_CONTROL);
  });

  it('var get and var watch print a value holding C1 CSI, NEL and LINE SEPARATOR escaped, still the same JSON', async () => {
    const sid = 'json-line-controls';
    const value = 'line1\u0085line2\u2028line3\u009b2J\u009b31mRED';
    await asAnotherWriter(sid, (session) => session.defineVariable('note', 'string', value));
    const got = await tether(['var', 'get', 'note', '--session', sid]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toBe(value);
    const watch = start(['var', 'watch', '--initial', '--session', sid]);
    await watch.until('stdout', /\n/);
    await watch.stop();
    expect(JSON.parse(watch.output.stdout.trim().split('\n')[0] ?? '').newValue).toBe(value);
    for (const out of [got.stdout, watch.output.stdout]) {
      expect(out.trimEnd().split(LINE_BREAKS)).toHaveLength(1);
      expect(out).not.toMatch(RAW_CONTROL);
    }
  });
});
