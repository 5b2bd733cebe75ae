/**
 * `--help` texts, generated from the command declarations that parsing uses.
 * @module
 */
import { alignedColumns } from './aligned-columns.js';
import { EXIT } from './cli-errors.js';
import { HELP_OPTION, type CommandSpec, type OptionSpec } from './command.js';

/** The usage line of a command: `tether var set <name> <value> [options]`. */
export function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((arg) => (arg.optional ? `[${arg.name}]` : `<${arg.name}>`));
  return ['tether', ...spec.path, ...args, '[options]'].join(' ');
}

function optionLabel(name: string, option: OptionSpec): string {
  const short = option.short ? `-${option.short}, ` : '    ';
  const value = option.type === 'string' ? ` ${option.placeholder ?? '<value>'}` : '';
  return `${short}--${name}${value}`;
}

/** Aligned rows of the help, indented under their heading. */
function table(rows: readonly (readonly string[])[]): string[] {
  return alignedColumns(rows, '  ');
}

/** The full help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, '', spec.summary];
  if (spec.details) lines.push('', ...spec.details);
  if (spec.args.length > 0) {
    lines.push('', 'Arguments:', ...table(spec.args.map((arg) => [arg.name, arg.description])));
  }
  const options: Readonly<Record<string, OptionSpec>> = { ...spec.options, ...HELP_OPTION };
  const rows = Object.entries(options).map(
    ([name, option]) =>
      [optionLabel(name, option), option.description + (option.multiple ? ' (repeatable)' : '')] as const,
  );
  lines.push('', 'Options:', ...table(rows));
  if (spec.examples) lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`));
  return lines.join('\n');
}

/** The help of the root (`group` undefined) or of a command group such as `var`. */
export function listHelp(commands: readonly CommandSpec[], group?: string): string {
  const shown = group === undefined ? commands : commands.filter((spec) => spec.path[0] === group);
  const lines = [
    group === undefined ? 'Usage: tether <command> [options]' : `Usage: tether ${group} <command> [options]`,
    '',
    group === undefined
      ? 'Tether from the command line: run a node, read and write session variables, call modules, follow events.'
      : `The ${group} commands.`,
    '',
    'Commands:',
    ...table(
      shown.map((spec) => [
        usageLine(spec)
          .replace(/^tether /, '')
          .replace(/ \[options\]$/, ''),
        spec.summary,
      ]),
    ),
  ];
  if (group === undefined) {
    lines.push(
      '',
      'Options:',
      ...table([
        ['-V, --version', "print Tether's version"],
        ['-h, --help', 'show this help'],
      ]),
      '',
      'Environment:',
      ...table([
        ['NATS_URL', 'the NATS server(s), comma-separated (default nats://127.0.0.1:4222); --nats overrides it'],
        [
          'NATS_USER, NATS_PASSWORD',
          'the user and password to connect with; each wins over its part of a user:pass@ in the URL',
        ],
        ['NATS_TOKEN', 'the token to connect with when no user is given; wins over a token@ in the URL'],
        [
          'NATS_CA, NATS_CERT, NATS_KEY',
          'PEM files: the CA that signed the server certificate; a client certificate and its key (TLS then required)',
        ],
        ['TETHER_PREFIX', 'the subject prefix (default tether); --prefix overrides it'],
        ['TETHER_SESSION', 'the session when --session is not given'],
        [
          'TETHER_MAX_RECONNECTS',
          'attempts per server to reconnect after NATS went away, then exit 3 (default -1: for ever)',
        ],
        ['TETHER_RECONNECT_WAIT_MS', 'the wait between two attempts to reconnect (default 2000)'],
        [
          'TETHER_PING_INTERVAL_MS',
          'how often to ping NATS; a server gone silent is left for a reconnect after 2 to 3 (default 120000)',
        ],
        ['TETHER_AI, TETHER_AI_*', 'the LLM provider of `serve` (default: the offline tether-echo model)'],
      ]),
      '',
      'Exit codes:',
      ...table([
        [String(EXIT.ok), 'success'],
        [
          String(EXIT.error),
          'a Tether error (validation_failed, variable_not_found, version_conflict, ...), also what a node would ' +
            'refuse that the CLI refuses first (a bad name, definition or --updated-by)',
        ],
        [
          String(EXIT.usage),
          'a usage error (unknown command or option, missing argument, an option value or value the CLI cannot read)',
        ],
        [
          String(EXIT.unreachable),
          'NATS cannot be reached, was lost meanwhile or refuses the user a subject (nats_connection), or no tether ' +
            'node answers (noproc)',
        ],
        [
          '130, 143',
          'module call interrupted by SIGINT (Ctrl-C) or SIGTERM (the execution is cancelled on its node); serve, ' +
            'var watch, events and inspect interrupted again while they stop (a first interrupt ends them with 0)',
        ],
      ]),
      '',
      'Errors are printed as one line on stderr: tether: <code>: <message>',
    );
  }
  lines.push(
    '',
    `Run 'tether ${group === undefined ? '<command>' : `${group} <command>`} --help' for a command's arguments and options.`,
  );
  return lines.join('\n');
}
