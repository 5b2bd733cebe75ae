import { describe, expect, it } from 'vitest';
import { createCodeRuntime } from '../../src/modules/code-runtime.js';
import { startScript } from '../support/cli-process.js';

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
/** The permission flag Ax gives its workers on this Node. */
const permissionFlag = major > 23 || (major === 23 && minor >= 5) ? '--permission' : '--experimental-permission';
/** Whether the workers are quietened here: the flag is experimental, and this Node has `--disable-warning`. */
const quietened =
  permissionFlag === '--experimental-permission' && process.allowedNodeEnvironmentFlags.has('--disable-warning');

describe("ProgramOfThought's code runtime", () => {
  it('keeps the sandbox flags Ax computes, and silences only the experimental warning where the flag is experimental', () => {
    const flags = (createCodeRuntime() as unknown as { computeNodeExecArgv(): string[] }).computeNodeExecArgv();
    expect(flags).toContain(permissionFlag);
    expect(flags.includes('--disable-warning=ExperimentalWarning')).toBe(quietened);
  });

  it("prints no warning on the service's stderr, execution after execution, and still runs the code", async () => {
    // A Node that cannot quieten the workers (before 20.11) prints the warning: this test is about the others.
    expect(quietened || permissionFlag === '--permission').toBe(true);
    const run = await startScript('test/support/program-of-thought-run.ts', []).exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/done\n$/);
    // The echo model's "code" is its own text: the sandbox ran it (and refused it) in a worker, three times.
    expect(run.stdout.match(/SyntaxError/g)?.length).toBeGreaterThanOrEqual(3);
    expect(run.stderr).not.toMatch(/ExperimentalWarning|Permission is an experimental feature/);
    expect(run.stderr).toBe('');
  }, 60_000);
});
