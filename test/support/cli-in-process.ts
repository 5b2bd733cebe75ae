/**
 * The `tether` CLI run in this process (no spawn) with its output captured, and its command declarations by path:
 * for the tests of what it reads, prints and refuses.
 */
import { COMMANDS, runCli } from '../../src/cli/cli.js';

/** One in-process run: its exit code and everything it printed. */
export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process with captured output and `env` as its whole environment (none of this process's). */
export async function runCliInProcess(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (line) => void (stdout += `${line}\n`),
    err: (line) => void (stderr += `${line}\n`),
    env,
  });
  return { code, stdout, stderr };
}

/** Runs the CLI in this process with captured output and no environment; nothing reaches NATS unless told where. */
export const cli = (...args: string[]): Promise<InProcessRun> => runCliInProcess(args);

/** The declaration of the command at `path` (`'var set'`). */
export function command(path: string): (typeof COMMANDS)[number] {
  const found = COMMANDS.find((spec) => spec.path.join(' ') === path);
  if (!found) throw new Error(`no command ${path}`);
  return found;
}
