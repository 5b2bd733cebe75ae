import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/cli.js';
import { useCliNode } from './support/cli-node.js';
import { waitFor } from './support/wait-for.js';

const { inProcess, server, id } = useCliNode();

/** A command run by `runCli` in this process, with what it printed so far. */
function startInProcess(args: readonly string[]): { readonly printed: () => string; readonly code: Promise<number> } {
  let printed = '';
  const code = runCli(args, {
    out: (line) => void (printed += `${line}\n`),
    err: (line) => void (printed += `${line}\n`),
    env: { NATS_URL: server().url },
  });
  return { printed: () => printed, code };
}

const listeners = (): number[] => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];

describe('cli run inside another program', () => {
  it('serve, var watch and events all stop on one SIGINT and leave no signal listener behind', async () => {
    const s = ['--session', 'cli-signals'];
    expect((await inProcess(['var', 'define', 't', 'float', '0.3', ...s])).code).toBe(0);
    const before = listeners();

    // A node of its own prefix and buckets, so the commands below are answered by the file's node alone.
    const serve = startInProcess(['serve', '--prefix', `sig_${id}`, '--buckets', `sig_vars_${id},sig_sessions_${id}`]);
    const watch = startInProcess(['var', 'watch', 't', ...s]);
    const events = startInProcess(['events', ...s]);
    await waitFor(() => serve.printed().includes('Ctrl-C stops it'), { timeout: 10_000, message: 'serve ready' });
    await waitFor(() => watch.printed().includes('Ctrl-C stops'), { message: 'var watch ready' });
    await waitFor(() => events.printed().includes('Ctrl-C stops'), { message: 'events ready' });
    expect(listeners()).toEqual(before.map((count) => count + 3));

    // Delivered to the listeners as the signal would be, without signalling the test's process.
    process.emit('SIGINT', 'SIGINT');
    expect(await Promise.all([serve.code, watch.code, events.code])).toEqual([0, 0, 0]);
    expect(serve.printed()).toContain('tether: node stopped (SIGINT)');
    // Before, each left its exit-on-the-next-signal listener installed: the program's next Ctrl-C ended it at once.
    expect(listeners()).toEqual(before);
  }, 30_000);
});
