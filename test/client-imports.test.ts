/**
 * What a client loads: the CLI's commands other than `serve`, and a remote client (`connect`), run no module and
 * no process of their own, so they load neither Ax (with its OpenTelemetry), nor Ajv, nor XState. Every command paid
 * for them before (about 0.13 s of a 0.33 s `tether var get`), reached through the spec checks and a remote module
 * handle's input check (found in review).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from './support/cli-process.js';
import { closedPort } from './support/closed-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What only a node needs: the LLM programs, the tool schemas' checks, the process runtime. */
const NODE_ONLY = ['@ax-llm/ax', '@opentelemetry/api', 'ajv', 'xstate'];

let logs: string;
let runs = 0;

beforeAll(async () => {
  logs = await mkdtemp(join(tmpdir(), 'tether-package-log-'));
});

afterAll(async () => {
  if (logs) await rm(logs, { recursive: true, force: true });
});

/** The packages `node <argv>` (from the repository's root, sources through tsx) loads, sorted, and how it exited. */
async function packagesLoadedBy(argv: readonly string[]): Promise<{ packages: string[]; code: number | null }> {
  const log = join(logs, `run-${(runs += 1)}.log`);
  const run = await startNode(['--import', 'tsx', '--import', './test/support/package-log.mjs', ...argv], {
    cwd: ROOT,
    env: { PACKAGE_LOG: log },
  }).exited;
  const names = await readFile(log, 'utf8').catch(() => '');
  return { packages: [...new Set(names.split('\n').filter((name) => name !== ''))].sort(), code: run.code };
}

describe('what a client loads', () => {
  it('runs tether --version without loading Ax, Ajv or XState', async () => {
    const { packages, code } = await packagesLoadedBy(['src/cli/main.ts', '--version']);
    expect(code).toBe(0);
    // The log works: the CLI's own NATS client is there.
    expect(packages).toContain('nats');
    expect(packages.filter((name) => NODE_ONLY.includes(name))).toEqual([]);
  });

  it('runs a command that connects without loading Ax, Ajv or XState', async () => {
    const nats = `nats://127.0.0.1:${await closedPort()}`;
    const { packages, code } = await packagesLoadedBy([
      'src/cli/main.ts',
      'var',
      'get',
      'x',
      '-s',
      's1',
      '--nats',
      nats,
    ]);
    expect(code).toBe(3);
    expect(packages).toContain('nats');
    expect(packages.filter((name) => NODE_ONLY.includes(name))).toEqual([]);
  });

  it('imports the remote client (connect) without loading Ax, Ajv or XState', async () => {
    const { packages, code } = await packagesLoadedBy(['src/nats/remote-client.ts']);
    expect(code).toBe(0);
    expect(packages).toContain('nats');
    expect(packages.filter((name) => NODE_ONLY.includes(name))).toEqual([]);
  });

  it('loads them for tether serve, which runs a node', async () => {
    // The same log on the command that needs them: the tests above would pass on a log that missed them.
    const { packages } = await packagesLoadedBy([
      'src/cli/main.ts',
      'serve',
      '--nats',
      `nats://127.0.0.1:${await closedPort()}`,
    ]);
    expect(packages).toEqual(expect.arrayContaining(NODE_ONLY));
  });
});
