import { describe, expect, it } from 'vitest';
import { transitionLine } from '../src/cli/follow-commands.js';
import { cli } from './support/cli-in-process.js';

describe('tether inspect lines', () => {
  const at = new Date('2026-11-21T12:00:01.234Z');
  const snapshot = { type: 'snapshot', node: 'node-a', sessionId: 'chat-1', status: 'active', context: {} } as const;

  it('name the process, the event and the state path', () => {
    expect(
      transitionLine(
        { ...snapshot, machine: 'module', moduleId: 'qa', event: { type: 'execute' }, value: 'syncing' },
        at,
      ),
    ).toBe('12:00:01.234  node-a  chat-1  module qa  execute → syncing');
    expect(
      transitionLine({ ...snapshot, machine: 'session', event: { type: 'write' }, value: { active: 'writing' } }, at),
    ).toBe('12:00:01.234  node-a  chat-1  session  write → active.writing');
  });

  it('show a status other than active, parallel regions, and a snapshot without an event', () => {
    expect(
      transitionLine(
        { ...snapshot, machine: 'session', status: 'done', event: undefined, value: { a: 'x', b: { c: 'y' } } },
        at,
      ),
    ).toBe('12:00:01.234  node-a  chat-1  session  ? → a.x, b.c.y [done]');
    // Found by mutation: a region whose state has no children (`{}`) and a status neither active nor done.
    expect(
      transitionLine(
        {
          ...snapshot,
          machine: 'module',
          moduleId: 'qa',
          status: 'error',
          event: { type: 'x' },
          value: { a: {}, b: 'y' },
        },
        at,
      ),
    ).toBe('12:00:01.234  node-a  chat-1  module qa  x → a, b.y [error]');
  });

  // Found watching a crash live: the line said `xstate.error → active.idle [error]` and nothing of which error, so a
  // watcher had to run it again with --json (or catch the crash twice) to learn why the process died.
  it("show a crash's error code and message after its status", () => {
    const crash = {
      ...snapshot,
      machine: 'session',
      status: 'error',
      event: { type: 'xstate.error' },
      value: { active: 'idle' },
      error: { code: 'internal_error', message: 'changes is not iterable', details: {} },
    } as const;
    const crashed = '12:00:01.234  node-a  chat-1  session  xstate.error → active.idle [error]';
    expect(transitionLine(crash, at)).toBe(`${crashed} internal_error: changes is not iterable`);
    // A message of several lines, or one with a control character, stays on its one line, its start kept.
    const long = 'x'.repeat(500);
    expect(
      transitionLine({ ...crash, error: { code: 'internal_error', message: `first\n\u001b[2Jsecond ${long}` } }, at),
    ).toBe(`${crashed} internal_error: first \\u001b[2Jsecond ${'x'.repeat(183)}…`);
    // Whoever publishes on the subjects may send any error field: one with neither code nor message shows none.
    expect(transitionLine({ ...crash, error: 5 as never }, at)).toBe(crashed);
  });

  // Anyone may publish on the inspect subjects: a message of JSON null failed the listener, whose report on stderr
  // ("events listener of tether.v1.inspect.>: Cannot read properties of null") took the place of its line.
  it('show a message with no snapshot fields (JSON null, a number, text) as a line of unknowns', () => {
    for (const data of [null, 5, 'hello'])
      expect(transitionLine(data as unknown as Parameters<typeof transitionLine>[0], at), String(data)).toBe(
        '12:00:01.234  ?  ?  session  ? → ? [?]',
      );
  });

  it('refuse a bad session id (exit 2) and an unreachable NATS (exit 3) with one line', async () => {
    const [badSession, unreachable] = await Promise.all([
      cli('inspect', '--session', 'a b'),
      cli('inspect', '--nats', 'nats://127.0.0.1:1'),
    ]);
    expect([badSession.code, badSession.stdout]).toEqual([2, '']);
    expect(badSession.stderr).toMatch(/^tether: usage: --session 'a b' is no session id.*\n$/);
    expect([unreachable.code, unreachable.stdout]).toEqual([3, '']);
    expect(unreachable.stderr).toBe(
      'tether: nats_unreachable: cannot reach NATS at nats://127.0.0.1:1 (CONNECTION_REFUSED)\n',
    );
  });
});
