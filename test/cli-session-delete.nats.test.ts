import { describe, expect, it, onTestFinished } from 'vitest';
import { startCli } from './support/cli-process.js';
import { useCliNode } from './support/cli-node.js';
import { startHoldingProxy } from './support/holding-proxy.js';
import { waitFor } from './support/wait-for.js';

const { start, tether, inProcess, server } = useCliNode();

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

  // var watch checks that the session exists, then opens it to bind its watch to that life. A session deleted between
  // the two was opened anew by the watch, which then watched the new, empty session it had created, though the
  // commands other than var define and module create never create one (README).
  it('var watch on a session deleted between its check and its open exits 1 (session_not_found), creating none', async () => {
    const s = ['--session', 'cli-watch-race'];
    expect((await inProcess(['var', 'define', 'w', 'integer', '0', ...s])).code).toBe(0);
    let opening = false;
    const proxy = await startHoldingProxy(server().url, (subject) => {
      if (subject === 'tether.v1.session.cli-watch-race.open') opening = true;
      return opening;
    });
    onTestFinished(() => proxy.close());
    proxy.hold();
    const watch = startCli(['var', 'watch', ...s], { NATS_URL: proxy.url });
    // Its open is held on its way to the server: the check was answered, and the session is still there.
    await waitFor(() => opening, { message: 'the watch opens the session' });
    expect((await inProcess(['session', 'delete', 'cli-watch-race'])).code).toBe(0);
    proxy.release();
    const ended = await watch.exited;
    expect([ended.code, ended.stdout, ended.stderr]).toEqual([
      1,
      '',
      "tether: session_not_found: session 'cli-watch-race' not found\n",
    ]);
    expect((await inProcess(['session', 'list'])).stdout.split('\n')).not.toContain('cli-watch-race');
  });
});
