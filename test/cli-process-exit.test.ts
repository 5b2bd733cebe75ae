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
    const saidAt = Date.now();
    expect((await get.exited).code).toBe(3);
    // The process did not wait for the connection it made (nor for the 2 s guard in main.ts).
    expect(silent.connections()).toBe(1);
    expect(Date.now() - saidAt).toBeLessThan(1_000);
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

  it('bounds a stop by the drain timeout: a stop that hangs is let go, one that ends is awaited', async () => {
    expect(await settlesWithin(new Promise(() => {}), 20)).toBe(false);
    expect(await settlesWithin(Promise.resolve(), 1000)).toBe(true);
  });
});
