/**
 * The `tether` command: finds the command named by the first words of the command line, parses the rest with
 * that command's declaration, runs it, and turns whatever it throws into one stderr line and an exit code.
 * @module
 */
import { EXIT, UsageError, errorLine, exitCodeOf } from './cli-errors.js';
import { parseCommand, type CliIo, type CommandSpec } from './command.js';
import { FOLLOW_COMMANDS } from './follow-commands.js';
import { commandHelp, listHelp } from './help.js';
import { MODULE_COMMANDS } from './module-commands.js';
import { SERVE_COMMANDS } from './serve-command.js';
import { SESSION_COMMANDS } from './session-commands.js';
import { VAR_COMMANDS } from './var-commands.js';

/** Every command, in the order `tether --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  ...SERVE_COMMANDS,
  ...VAR_COMMANDS,
  ...SESSION_COMMANDS,
  ...MODULE_COMMANDS,
  ...FOLLOW_COMMANDS,
];

const GROUPS = new Set(COMMANDS.filter((spec) => spec.path.length > 1).map((spec) => spec.path[0]));

/** The command whose path starts `argv`, and the words after its path. */
function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: readonly string[] } | undefined {
  for (const spec of COMMANDS) {
    if (spec.path.every((word, i) => argv[i] === word)) return { spec, rest: argv.slice(spec.path.length) };
  }
  return undefined;
}

/**
 * Runs `tether <argv...>` and resolves to its exit code: 0 ok, 1 a Tether error, 2 a usage error, 3 NATS
 * unreachable or no node. Never throws.
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, second] = argv;
  const isHelp = (word: string | undefined): boolean => word === '--help' || word === '-h' || word === 'help';
  if (first === undefined || isHelp(first)) {
    // Asked for: stdout and success. Nothing given at all: a usage error a script should notice.
    (first === undefined ? io.err : io.out)(listHelp(COMMANDS));
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (GROUPS.has(first) && isHelp(second)) {
    io.out(listHelp(COMMANDS, first));
    return EXIT.ok;
  }
  try {
    if (GROUPS.has(first) && second === undefined) {
      const names = COMMANDS.filter((spec) => spec.path[0] === first).map((spec) => spec.path[1]);
      throw new UsageError(`'${first}' needs a command: ${names.join(', ')}`, [first]);
    }
    const found = findCommand(argv);
    if (!found) {
      const words = GROUPS.has(first) ? `${first} ${second}` : first;
      throw new UsageError(`unknown command '${words}'`, GROUPS.has(first) ? [first] : []);
    }
    const parsed = parseCommand(found.spec, found.rest);
    if (parsed.help) {
      io.out(commandHelp(found.spec));
      return EXIT.ok;
    }
    return (await found.spec.run(parsed, io)) ?? EXIT.ok;
  } catch (error) {
    io.err(errorLine(error));
    return exitCodeOf(error);
  }
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    env: process.env,
  };
}
