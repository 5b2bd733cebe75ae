import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { settlesWithin } from '../src/cli/until-signal.js';
import { startSilentServer } from './support/silent-server.js';
import { startCli } from './support/cli-process.js';

describe('cli', () => {
  it('ends once its error line is out after a connect that timed out', async () => {
    const silent = await startSilentServer();
    onTestFinished(() => silent.close());
    const get = startCli(['var', 'get', 'x', '-s', 'a', '--nats', silent.url]);
    await get.until('stderr', /TIMEOUT/);
    // The server never answers nor closes the connection the process made: waiting for it, the process would never
    // end (the test's timeout would).
    expect((await get.exited).code).toBe(3);
    expect(silent.connections()).toBe(1);
  }, 15_000);

  it('fails with one line (exit 1) when stdout cannot be written, as on a full disk', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], {
        cwd: new URL('..', import.meta.url).pathname,
        stdio: ['ignore', full.fd, 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise((resolve) => child.once('close', resolve));
      expect([code, stderr]).toEqual([
        1,
        'tether: output_failed: cannot write to stdout: ENOSPC: no space left on device, write\n',
      ]);
    } finally {
      await full.close();
    }
  });

  // The helper serve's stop is bounded with; serve itself past --drain-timeout: cli-serve.nats.test.ts.
  it('settlesWithin lets a wait that never settles go at its bound, and awaits one that settles', async () => {
    expect(await settlesWithin(new Promise(() => {}), 20)).toBe(false);
    expect(await settlesWithin(Promise.resolve(), 1000)).toBe(true);
  });
});
