/**
 * The `tether` command: finds the command named by the first words of the command line, parses the rest with
 * that command's declaration, reads the options it shares with the other networked commands (a usage error there
 * comes before any refusal of its arguments), runs it, and turns whatever it throws into one stderr line and an exit
 * code.
 * @module
 */
import { packageVersion } from '../package-version.js';
import { EXIT, UsageError, errorLine, exitCodeOf } from './cli-errors.js';
import { closestName } from './closest-name.js';
import { parseCommand, type CliIo, type CommandSpec } from './command.js';
import { checkSharedOptions } from './connection.js';
import { FOLLOW_COMMANDS } from './follow-commands.js';
import { commandHelp, listHelp } from './help.js';
import { MODULE_COMMANDS } from './module-commands.js';
import { SERVE_COMMANDS } from './serve-command.js';
import { SESSION_COMMANDS } from './session-commands.js';
import { VAR_COMMANDS } from './var-commands.js';
import { VAR_TRANSFER_COMMANDS } from './var-transfer-commands.js';

/** Every command, in the order `tether --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  ...SERVE_COMMANDS,
  ...VAR_COMMANDS,
  ...VAR_TRANSFER_COMMANDS,
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
 * Runs `tether <argv...>` (or `tether --version`, `-V`) and resolves to its exit code: 0 ok, 1 a Tether error, 2 a
 * usage error, 3 NATS unreachable or no node. Never throws.
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, second] = argv;
  const isHelp = (word: string | undefined): boolean => word === '--help' || word === '-h' || word === 'help';
  try {
    // Nothing given: a usage error a script should notice, in one line as every failure is.
    if (first === undefined) throw new UsageError('missing <command>');
    // `tether help -h` asks for help on help: the general one.
    if (first === 'help')
      return help(
        argv.slice(1).filter((word) => !isHelp(word)),
        io,
      );
    if (isHelp(first)) return help([], io);
    if (first === '--version' || first === '-V') {
      if (second !== undefined) throw new UsageError(`unexpected argument '${second}'`);
      io.out(packageVersion());
      return EXIT.ok;
    }
    if (GROUPS.has(first) && isHelp(second)) return help([first], io);
    if (GROUPS.has(first) && second === undefined) {
      const names = COMMANDS.filter((spec) => spec.path[0] === first).map((spec) => spec.path[1]);
      throw new UsageError(`'${first}' needs a command: ${names.join(', ')}`, [first]);
    }
    const found = findCommand(argv);
    if (!found) throw unknownCommand(argv);
    const parsed = parseCommand(found.spec, found.rest);
    if (parsed.help) return help(found.spec.path, io);
    checkSharedOptions(found.spec.options, parsed.values, io, found.spec.path);
    return (await found.spec.run(parsed, io)) ?? EXIT.ok;
  } catch (error) {
    io.err(errorLine(error));
    return exitCodeOf(error);
  }
}

/** `tether help [group] [command]`: the help of the root, of a group (`var`) or of one command, on stdout. */
function help(words: readonly string[], io: CliIo): number {
  const [first] = words;
  if (first === undefined) io.out(listHelp(COMMANDS));
  else if (GROUPS.has(first) && words.length === 1) io.out(listHelp(COMMANDS, first));
  else {
    const found = findCommand(words);
    if (!found) throw unknownCommand(words);
    if (found.rest.length > 0) throw new UsageError(`unexpected argument '${found.rest[0]}'`, found.spec.path);
    io.out(commandHelp(found.spec));
  }
  return EXIT.ok;
}

/**
 * `unknown command 'var nope'`, pointing at the help of the group the words start; a typo of a command of that
 * group (or of the top level) is told which one it may be.
 */
function unknownCommand(words: readonly string[]): UsageError {
  const [first, second] = words;
  const inGroup = first !== undefined && GROUPS.has(first);
  const typed = (inGroup ? second : first) ?? '';
  const names = inGroup
    ? COMMANDS.filter((spec) => spec.path[0] === first).map((spec) => spec.path[1] ?? '')
    : [...new Set(COMMANDS.map((spec) => spec.path[0] ?? '')), 'help'];
  const meant = closestName(typed, names);
  // An option before the command (`tether --prefix x var get a`): the options are each command's own. The version
  // is no command's: `tether help --version` is told the one way to ask for it.
  const misplaced =
    inGroup || !typed.startsWith('-')
      ? ''
      : typed === '--version' || typed === '-V'
        ? `: for the version, run 'tether ${typed}' alone`
        : `: options go after the command, as in 'tether <command> ${typed} ...'`;
  const hint = meant === undefined ? misplaced : `: did you mean '${inGroup ? `${first} ${meant}` : meant}'?`;
  return new UsageError(`unknown command '${inGroup ? `${first} ${second}` : first}'${hint}`, inGroup ? [first] : []);
}

/**
 * The real process's streams and environment. A closed stdout (`tether events | head -1`) is not an error: as
 * with `yes | head -1`, nothing more is written and {@link CliIo.outputClosed} lets the command end, exit code 0.
 */
export function processIo(): CliIo {
  let closed = false;
  let writeFailed = false;
  let reportClosed = (): void => {};
  const outputClosed = new Promise<void>((resolve) => (reportClosed = resolve));
  // Without a listener, the EPIPE of a write to a pipe nobody reads was an uncaught exception: a stack trace, exit 1.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    closed = true;
    reportClosed();
    if (error.code === 'EPIPE' || writeFailed) return;
    // Anything else (a full disk: `> /dev/full`) lost output the caller asked for: a failure, whatever the command
    // made of it. Said once; the exit code is set here because the error may come after the command returned.
    writeFailed = true;
    process.exitCode = 1;
    process.stderr.write(`tether: output_failed: cannot write to stdout: ${error.message}\n`);
  });
  // Nowhere is left to say anything.
  process.stderr.on('error', () => {});
  return {
    out: (line) => void (closed || process.stdout.write(`${line}\n`)),
    err: (line) => void process.stderr.write(`${line}\n`),
    env: process.env,
    outputClosed,
    ...(process.stdin.isTTY ? {} : { readInput: () => bytes(process.stdin) }),
  };
}

/** All `stream` gives until its end. */
async function bytes(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
