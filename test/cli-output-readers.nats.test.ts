import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useCliNode } from './support/cli-node.js';

const { start, tether, inProcess, server } = useCliNode();

describe('cli', () => {
  it('ends var watch and events quietly (exit 0) once nobody reads their output, as `| head -1` does', async () => {
    const s = ['--session', 'cli-pipe'];
    await inProcess(['var', 'define', 'p', 'integer', '0', ...s]);
    const watch = start(['var', 'watch', 'p', ...s]);
    const events = start(['events', ...s]);
    await Promise.all([watch.until('stderr', /watching/), events.until('stderr', /listening on/)]);
    // The reader goes away; the next line either command writes finds the pipe closed.
    watch.child.stdout?.destroy();
    events.child.stdout?.destroy();
    expect((await inProcess(['var', 'set', 'p', '1', ...s])).code).toBe(0);
    const [watched, heard] = await Promise.all([watch.exited, events.exited]);
    expect([watched.code, watched.stderr]).toEqual([0, "tether: watching 'p' in session cli-pipe; Ctrl-C stops\n"]);
    expect([heard.code, heard.stderr]).toEqual([0, 'tether: listening on tether.v1.events.cli-pipe.>; Ctrl-C stops\n']);
  });

  it('hands all of its output to a reader that takes it late (a pager), however long it takes', async () => {
    const s = ['--session', 'cli-late'];
    const value = 'd'.repeat(300_000);
    expect((await tether(['var', 'define', 'doc', 'string', '-', ...s], value)).code).toBe(0);
    // The reader takes nothing for 3 s: the pipe holds 64 KiB of the 300 KB, the rest waits in the command.
    const late = spawn(
      'bash',
      ['-c', `node --import tsx src/cli/main.ts var get doc ${s.join(' ')} | (sleep 3; wc -c)`],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, NATS_URL: server().url, TETHER_SESSION: '' },
      },
    );
    let counted = '';
    late.stdout.on('data', (chunk: Buffer) => void (counted += chunk.toString()));
    const code = await new Promise((resolve) => late.once('close', resolve));
    // The value as JSON (quoted) and its line's end.
    expect([code, counted.trim()]).toEqual([0, String(value.length + 3)]);
  }, 20_000);
});
