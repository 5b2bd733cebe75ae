import { describe, expect, it } from 'vitest';
import { useCliNode } from './support/cli-node.js';

const { start, tether, inProcess } = useCliNode();

describe('cli', () => {
  it('session delete removes a session for good (exit 0), then exits 1 with session_not_found', async () => {
    const s = ['--session', 'cli-del'];
    expect((await inProcess(['var', 'define', 'x', 'integer', '1', ...s])).code).toBe(0);
    const deleted = await tether(['session', 'delete', 'cli-del']);
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, 'session cli-del deleted\n', '']);
    const [again, read, bad, noNode] = await Promise.all([
      inProcess(['session', 'delete', 'cli-del']),
      inProcess(['var', 'get', 'x', ...s]),
      inProcess(['session', 'delete', 'a.b']),
      inProcess(['session', 'delete', 'cli-del', '--prefix', 'nobody']),
    ]);
    expect([again.code, again.stderr]).toEqual([1, "tether: session_not_found: session 'cli-del' not found\n"]);
    expect([read.code, read.stderr]).toEqual([1, "tether: session_not_found: session 'cli-del' not found\n"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tether: validation_failed: .*'a\.b'.*\n$/);
    expect(noNode.code).toBe(3);
    // Defined again, the id is a new session, with none of the old variables.
    expect((await inProcess(['var', 'define', 'y', 'integer', '2', ...s])).code).toBe(0);
    expect((await inProcess(['var', 'list', ...s])).stdout).not.toContain('x =');
  });

  it('var watch on a session nobody opened exits 1 (session_not_found), and 3 (noproc) with no node', async () => {
    const [unknown, noNode] = await Promise.all([
      inProcess(['var', 'watch', '--session', 'nosuch']),
      inProcess(['var', 'watch', '--session', 'nosuch', '--prefix', 'nobody']),
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([1, "tether: session_not_found: session 'nosuch' not found\n"]);
    expect(noNode.code).toBe(3);
    expect(noNode.stderr).toMatch(/^tether: noproc: /);
    expect(unknown.stdout + noNode.stdout).toBe('');
  });

  it('ends var watch with exit 1 and one line once its session is deleted, rather than watch on for ever', async () => {
    const s = ['--session', 'cli-watch-end'];
    expect((await inProcess(['var', 'define', 'w', 'integer', '0', ...s])).code).toBe(0);
    const watch = start(['var', 'watch', ...s]);
    await watch.until('stderr', /watching/);
    expect((await inProcess(['session', 'delete', 'cli-watch-end'])).code).toBe(0);
    const ended = await watch.exited;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toBe(
      "tether: watching '*' in session cli-watch-end; Ctrl-C stops\n" +
        "tether: session_not_found: session 'cli-watch-end' not found\n",
    );
  });
});
