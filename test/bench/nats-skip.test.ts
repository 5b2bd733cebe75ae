/**
 * bench/nats.ts skips the NATS benchmarks (one line, and the rest of `npm run bench` runs) only when there is no
 * nats-server binary. One that is installed but fails to start (JetStream storage refused, say) fails the run: it
 * was reported as missing, and the four benchmarks dropped out silently (found in review).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchNats } from '../../bench/nats.js';

const saved = { PATH: process.env.PATH, NATS_URL: process.env.NATS_URL };
let dir: string | undefined;
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.NATS_URL === undefined) delete process.env.NATS_URL;
  else process.env.NATS_URL = saved.NATS_URL;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('benchNats with a nats-server that is installed but cannot start', () => {
  it('fails the run instead of reporting the NATS benchmarks as skipped for want of a nats-server', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fake-nats-server-'));
    const fake = join(dir, 'nats-server');
    writeFileSync(
      fake,
      '#!/bin/sh\necho "[FTL] Can\'t start JetStream: could not create storage directory" >&2\nexit 1\n',
    );
    chmodSync(fake, 0o755);
    process.env.PATH = `${dir}${delimiter}${saved.PATH ?? ''}`;
    delete process.env.NATS_URL;

    await expect(benchNats()).rejects.toThrow(/JetStream|exited during start/);
  }, 30_000);
});
