/**
 * The `tether` CLI as a child process, as a script would run it: node with tsx's loader on src/cli/main.ts
 * (without npm in between, whose wrapper swallows signals), its output collected as it comes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One run of the CLI: what a script would see. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A CLI (or script) process that keeps running (serve, var watch, events) until the test signals it or it exits. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Resolves once `stream` matches `pattern` (the "listening"/"serving" notices); rejects if the CLI exits first. */
  until(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void>;
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the exit, however it comes. */
  readonly exited: Promise<CliRun>;
  /** Sends `signal` and resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<CliRun>;
}

/**
 * Starts `tether <args>`; `env` is added to this process's (TETHER_SESSION cleared, so tests name sessions). Its
 * stdin is `input` when given, else empty.
 */
export function startCli(args: readonly string[], env: Record<string, string> = {}, input?: string): RunningCli {
  return startNode(['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, input });
}

/**
 * Starts a TypeScript entry of this repository (`script`, from its root) in a process of its own, as
 * {@link startCli} runs the CLI (a test support script, say).
 */
export function startScript(script: string, args: readonly string[], env: Record<string, string> = {}): RunningCli {
  return startNode(['--import', 'tsx', script, ...args], { cwd: ROOT, env });
}

/**
 * Starts `node <argv>` in `cwd`, as {@link startCli} runs the CLI: for a layout other than this checkout's (an
 * installed package, the Docker image's).
 */
export function startNode(
  argv: readonly string[],
  { cwd, env = {}, input }: { cwd: string; env?: Record<string, string>; input?: string | undefined },
): RunningCli {
  const child = spawn(process.execPath, argv, {
    cwd,
    env: { ...process.env, TETHER_SESSION: '', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(input);
  killAfterTest(child);
  const output = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output[waiter.stream])) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => ((output.stdout += chunk), check()));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => ((output.stderr += chunk), check()));
  const exited = new Promise<CliRun>((resolve) => child.once('close', (code) => resolve({ code, ...output })));
  return {
    child,
    output,
    exited,
    until: (stream, pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ stream, pattern, resolve });
        check();
        void exited.then((run) =>
          reject(new Error(`exited (${run.code}) before ${stream} matched ${pattern}: ${run.stderr}`)),
        );
      }),
    stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs `tether <args>` to completion, `input` (when given) piped to its stdin. */
export function runCliProcess(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliRun> {
  return startCli(args, env, input).exited;
}

/**
 * A test that fails midway never reaches its own `stop()`: whatever it started is killed once the test ends, so no
 * CLI outlives it (a `var watch` would otherwise hold its connection and run on past the whole suite).
 */
function killAfterTest(child: ChildProcess): void {
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  } catch {
    // Started outside a test (a `beforeAll`): its hook stops it.
  }
}
