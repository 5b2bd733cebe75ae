/**
 * `npm run bench` runs the heap benches as child processes (bench/run.ts) and prints what they write. They ran
 * nothing when the checkout's path had a character a file URL percent-encodes (a space, a letter outside ASCII): the
 * run printed blank sections where their figures belong, and passed (found in review).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
let base: string;
let clone: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'tether-bench-'));
  // A checkout in a folder whose name has a space, as `~/My Projects/tether` would be.
  clone = join(base, 'My Projects', 'tether');
  cpSync(join(root, 'bench'), join(clone, 'bench'), { recursive: true });
  for (const entry of ['src', 'machines', 'node_modules', 'test', 'package.json', 'tsconfig.json']) {
    symlinkSync(join(root, entry), join(clone, entry));
  }
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs a heap bench as bench/run.ts does (its own process, --expose-gc), in the source build (tsx). */
function runHeapBench(name: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(clone, 'bench', `${name}.ts`)], {
    cwd: clone,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 50_000,
  });
}

describe('heap benches in a checkout whose path has a space', () => {
  it('session-scale prints its figures', () => {
    expect(runHeapBench('session-scale', { SESSIONS: '20' })).toContain('live sessions');
  }, 60_000);

  it('process-hibernation prints its figures', () => {
    expect(runHeapBench('process-hibernation', { PROCESSES: '20', MODULES: '2' })).toContain('Process hibernation');
  }, 60_000);
});
