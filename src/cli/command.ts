/**
 * How a `tether` command is declared: its words, arguments and options, described once. The same declaration
 * feeds `util.parseArgs` and the `--help` text (help.ts), so the two cannot drift apart.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-errors.js';
import { closestName } from './closest-name.js';
import { messageOf } from '../printable.js';

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
  readonly description: string;
  /** The value's placeholder in the help text, e.g. `<url>`. */
  readonly placeholder?: string;
}

/** One positional argument. */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /**
   * May start with a dash (a value, `var set name -x`; a session or module id, `-abc`): given so, it reads as an
   * unknown option, whose refusal then says to give it after `--`.
   */
  readonly mayStartWithDash?: boolean;
}

/** The value type parseArgs gives an option. */
type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : string;

/** What a command's `run` receives: the option values (absent when not given) and the positionals by name. */
export interface ParsedCommand<O extends Readonly<Record<string, OptionSpec>>> {
  readonly values: { readonly [K in keyof O]?: OptionValue<O[K]> };
  readonly args: Readonly<Record<string, string | undefined>>;
}

/** Where a command writes; `process.stdout`/`stderr` in the binary, buffers in tests. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves once nobody reads `out` any more (its pipe closed: `tether events | head -1`); the commands that print
   * until Ctrl-C then end, with exit code 0. Absent: never.
   */
  readonly outputClosed?: Promise<void>;
  /**
   * Reads the whole of stdin, for a value given as `-`. Absent where nothing is piped or redirected into it: a
   * terminal (a read would wait, silent, for Ctrl-D), an in-process run.
   */
  readonly readInput?: () => Promise<Uint8Array>;
}

/** A command: `tether <path...> <args> [options]`. */
export interface CommandSpec<O extends Readonly<Record<string, OptionSpec>> = Readonly<Record<string, OptionSpec>>> {
  /** The command words, e.g. `['var', 'set']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** A longer explanation for `--help`. */
  readonly details?: readonly string[];
  readonly args: readonly ArgSpec[];
  readonly options: O;
  readonly examples?: readonly string[];
  /** Runs the command; resolves to the exit code (0 when nothing is returned). */
  run(parsed: ParsedCommand<O>, io: CliIo): Promise<number | void>;
}

/** Declares a command, keeping its option types for `run`. */
export function defineCommand<const O extends Readonly<Record<string, OptionSpec>>>(
  spec: CommandSpec<O>,
): CommandSpec<O> {
  return spec;
}

/** `--help` is part of every command. */
export const HELP_OPTION = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

/**
 * A number, possibly negative or with an exponent, or `-Infinity` (a float's value, as `Infinity` is): the only
 * things starting with `-` that can be a positional, besides `-` itself (stdin), which parseArgs takes as one.
 */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * parseArgs reads `-1` as an unknown short option. A value like `var set t -1` is common enough to accept: a
 * negative number after an option that takes a value becomes `--option=-1`, any other one is moved behind a
 * `--` (our commands' values are their last positionals, so the order of positionals is kept).
 */
function acceptNegativeNumbers(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): string[] {
  if (argv.includes('--')) return [...argv];
  const takesValue = (arg: string): string | undefined => {
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : Object.keys(options).find((key) => `-${options[key]?.short}` === arg);
    return name !== undefined && !name.includes('=') && options[name]?.type === 'string' ? name : undefined;
  };
  const out: string[] = [];
  const moved: string[] = [];
  for (const arg of argv) {
    const previous = out.at(-1);
    const option = previous === undefined ? undefined : takesValue(previous);
    if (!NEGATIVE_NUMBER.test(arg)) out.push(arg);
    else if (option !== undefined) out[out.length - 1] = `--${option}=${arg}`;
    else moved.push(arg);
  }
  return moved.length > 0 ? [...out, '--', ...moved] : out;
}

/**
 * Node's parseArgs message on one line. Its first sentence names the option; the advice after it is about `--`
 * positionals and dropped, except for a value starting with a dash (`--reason -x`), where the advice is the fix.
 * An unknown long option that is a typo of one of `names` (the command's options) is told which one it may mean; any
 * other unknown one, given to a command with an argument of `mayStartWithDash`, is most likely that argument
 * (`var set name -x`, `var set flags --verbose`), and is told how to give it, unless the command would then get more
 * arguments than it takes: then it was meant as an option (`session delete -s chat-1`, as the `var` commands take the
 * session), and the message says which arguments the command takes instead.
 */
function parseErrorMessage(
  error: unknown,
  argv: readonly string[],
  names: readonly string[],
  spec: Pick<CommandSpec, 'path' | 'args'>,
  options: ParseArgsConfig['options'],
): string {
  const text = messageOf(error);
  const first = text.split(/\n|\. To specify/)[0] ?? text;
  const unknown = /^Unknown option '--([^'=]+)/.exec(first)?.[1];
  const meant = unknown === undefined ? undefined : closestName(unknown, names);
  if (meant !== undefined) return `${first.replace(/\.$/, '')}: did you mean '--${meant}'?`;
  const letter = /^Unknown option '(-[^-'])'/.exec(first)?.[1];
  // parseArgs names the first letter of `-abc` only, and a long one without its `=value`: the word is the one typed.
  const typed =
    letter !== undefined
      ? argv.find((arg) => arg.startsWith(letter) && arg !== '--')
      : unknown === undefined
        ? undefined
        : argv.find((arg) => arg === `--${unknown}` || arg.startsWith(`--${unknown}=`));
  if (typed !== undefined && spec.args.some((arg) => arg.mayStartWithDash === true)) {
    if (positionalsBesides(argv, options) < spec.args.length)
      return `Unknown option '${typed}': an argument starting with a dash goes after '--', as in '-- ${typed}'`;
    const takes = spec.args.map((arg) => (arg.optional ? `[${arg.name}]` : `<${arg.name}>`)).join(' ');
    return `Unknown option '${typed}': tether ${spec.path.join(' ')} has no such option (its arguments: ${takes})`;
  }
  const hint = /^To specify an option argument starting with a dash use '(--[^=']+)=-XYZ'/m.exec(text);
  if (!hint?.[1]) return first;
  // Written with the value given, where it can be found: the word after the option as typed (`--reason`, `-r`).
  const at = argv.indexOf(/^Option '([^']+)'/.exec(first)?.[1] ?? hint[1]);
  const value = at >= 0 ? argv[at + 1] : undefined;
  const written = `${hint[1]}=${value?.startsWith('-') ? value : '-XYZ'}`;
  return `${first.replace(/\.$/, '')}: to give it a value starting with a dash, write '${written}'`;
}

/**
 * How many words of `argv` are positionals when an unknown option is read as a flag (`-s chat-1`: one), the
 * command's own as `options` declares them.
 */
function positionalsBesides(argv: readonly string[], options: ParseArgsConfig['options']): number {
  return parseArgs({ args: [...argv], options, strict: false, allowPositionals: true }).positionals.length;
}

/** Parses `argv` (the words after the command path) against `spec`; `UsageError` on anything it does not declare. */
export function parseCommand<O extends Readonly<Record<string, OptionSpec>>>(
  spec: CommandSpec<O>,
  argv: readonly string[],
): ParsedCommand<O> & { readonly help: boolean } {
  const options: Readonly<Record<string, OptionSpec>> = { ...spec.options, ...HELP_OPTION };
  const config: ParseArgsConfig['options'] = {};
  for (const [name, option] of Object.entries(options)) {
    config[name] = {
      type: option.type,
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: acceptNegativeNumbers(argv, options),
      options: config,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error, argv, Object.keys(options), spec, config), spec.path);
  }
  // parseArgs keeps the last of a value given twice: `-s m1 -s s1` would quietly write to another session.
  const given = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.type !== 'string' || options[token.name]?.multiple) continue;
    if (given.has(token.name)) throw new UsageError(`option '--${token.name}' given more than once`, spec.path);
    given.add(token.name);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help === true) return { values: {} as ParsedCommand<O>['values'], args: {}, help: true };
  const required = spec.args.filter((arg) => !arg.optional).length;
  if (parsed.positionals.length < required) {
    const missing = spec.args
      .slice(parsed.positionals.length)
      .filter((arg) => !arg.optional)
      .map((arg) => `<${arg.name}>`);
    throw new UsageError(`missing ${missing.join(' ')}`, spec.path);
  }
  if (parsed.positionals.length > spec.args.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[spec.args.length]}'`, spec.path);
  }
  const args = Object.fromEntries(spec.args.map((arg, i) => [arg.name, parsed.positionals[i]]));
  delete values.help;
  return { values: values as ParsedCommand<O>['values'], args, help: false };
}
