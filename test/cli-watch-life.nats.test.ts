/**
 * `tether var watch --help`: "When the session is deleted or expires, it exits 1 with that error." So it does when its
 * connection blips while the session is deleted and the id is opened again (found by a review: it carried on into the
 * id's next life, printing another session's variables, versions going backwards, as news of the one it watched).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { useCliNode } from './support/cli-node.js';
import { startCli } from './support/cli-process.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const { tether, server } = useCliNode();

const settledWithin = <T>(promise: Promise<T>, ms: number): Promise<T | 'still running'> =>
  Promise.race([promise, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]);

describe('cli var watch across a connection blip', () => {
  it('ends with exit 1 when its session was deleted meanwhile, rather than follow the id into its next life', async () => {
    const s = ['--session', 'watched-life'];
    expect((await tether(['var', 'define', 'a', 'integer', '1', ...s])).code).toBe(0);
    const proxy = await startTcpProxy(server().url);
    onTestFinished(() => proxy.close());
    const watch = startCli(['var', 'watch', ...s], { NATS_URL: proxy.url, TETHER_RECONNECT_WAIT_MS: '300' });
    await watch.until('stderr', /watching/);

    // The watch's link blips; meanwhile the session is deleted for good, and someone starts a new one under the id.
    proxy.cut();
    await watch.until('stderr', /connection lost/);
    expect((await tether(['session', 'delete', 'watched-life'])).code).toBe(0);
    expect((await tether(['var', 'define', 'a', 'integer', '100', ...s])).code).toBe(0);
    expect((await tether(['var', 'define', 'secret', 'string', 'next-life', ...s])).code).toBe(0);
    proxy.restore();
    await watch.until('stderr', /reconnected/);

    const ended = await settledWithin(watch.exited, 8000);
    // What the help promises, and what it does when the id was not reused: exit 1 with the session's end.
    expect(ended).not.toBe('still running');
    expect(watch.output.stdout).not.toContain('next-life');
    expect(watch.output.stdout).not.toContain('"newValue":100');
    expect(ended === 'still running' ? null : ended.code).toBe(1);
    expect(watch.output.stderr).toMatch(/tether: session_(not_found|expired): /);
  }, 40_000);
});
