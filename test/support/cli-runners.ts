/**
 * The `tether` CLI pointed at one NATS server (through `NATS_URL`), run the ways the CLI tests need.
 */
import { runCliInProcess } from './cli-in-process.js';
import { runCliProcess, startCli, type CliRun, type RunningCli } from './cli-process.js';

/** Ways to run the CLI against the server at `url()` (read at each run: servers start in `beforeAll`). */
export interface CliRunners {
  /** A CLI process that keeps running (serve, var watch, events). */
  start(args: readonly string[]): RunningCli;
  /** A CLI process run to completion; `input`, when given, is piped to its stdin. */
  tether(args: readonly string[], input?: string): Promise<CliRun>;
  /** The CLI run in this process (no spawn): for the error variants, which need no process of their own. */
  inProcess(args: readonly string[]): Promise<CliRun>;
}

/** The runners for the server at `url()`. */
export function cliRunners(url: () => string): CliRunners {
  return {
    start: (args) => startCli(args, { NATS_URL: url() }),
    tether: (args, input) => runCliProcess(args, { NATS_URL: url() }, input),
    inProcess: (args) => runCliInProcess(args, { NATS_URL: url() }),
  };
}

/** The lines a run printed on stderr. */
export const errorLines = (run: CliRun): string[] => run.stderr.trim().split('\n');

/** The JSON lines a run printed on stdout (`var watch`, `events`), parsed. */
export const jsonLines = <T = unknown>(run: Pick<CliRun, 'stdout'>): T[] =>
  run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
