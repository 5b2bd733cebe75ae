/**
 * `tether var export|import`: a session's variables to a file and back, through any node. The file is the JSON
 * array `var.export` answers (docs/protocol.md), so a backup made here imports into any session, through any client
 * in any language, and one written by hand needs only each variable's name, type and value.
 * @module
 */
import { assertOptions } from '../session/options.js';
import { UsageError } from './cli-errors.js';
import { defineCommand, type CommandSpec } from './command.js';
import { CLIENT_OPTIONS, SESSION_OPTION, withSession } from './connection.js';
import { openIfAccepted } from './open-if-accepted.js';
import { jsonLine } from './output.js';
import { parseJsonOption, valueText } from './values.js';
import { updatedByOption } from './var-commands.js';

const COMMON = { ...CLIENT_OPTIONS, ...SESSION_OPTION } as const;

const exportVariables = defineCommand({
  path: ['var', 'export'],
  summary: "print a session's variables as one JSON array, for var import",
  details: [
    "One line: each variable's name, type, value, constraints, description, metadata, version, createdAt, updatedAt",
    'and updatedBy, values as the wire writes them (a float NaN as "NaN"). Locks and history are not exported.',
    'A session that does not exist is session_not_found (exit 1).',
  ],
  args: [],
  options: { ...COMMON },
  examples: ['tether var export -s chat-1 > chat-1.json'],
  async run({ values }, io) {
    const records = await withSession(values, io, this.path, {}, (session) => session.exportVariables());
    io.out(jsonLine(records));
  },
});

const importVariables = defineCommand({
  path: ['var', 'import'],
  summary: 'define the variables of a var export in a session, all or nothing',
  details: [
    'Takes the JSON array var export prints; each record needs name, type and value, the other keys are optional.',
    'A name the session has already is already_exists (exit 1) and nothing is imported; with --replace it is',
    'written as its next version. A new one starts at version 1, as a define does. Each names --updated-by as its',
    'writer. A session that does not exist is opened, and a refused import leaves none behind.',
  ],
  args: [{ name: 'records', description: 'the records as a JSON array; - reads them from stdin' }],
  options: {
    ...COMMON,
    replace: { type: 'boolean', description: 'overwrite the variables that exist, each as a new version' },
    'updated-by': updatedByOption('who writes (recorded, and checked against the lock of a variable replaced)'),
  },
  examples: ['tether var import - -s chat-2 < chat-1.json', 'tether var import - --replace -s chat-1 < chat-1.json'],
  async run({ values, args }, io) {
    const text = await valueText(String(args.records), io, this.path, '<records>');
    // Not even the start of an array: most likely a file named where its contents go.
    if (!text.trimStart().startsWith('['))
      throw new UsageError(
        '<records> must be a JSON array, as var export prints it (a file: var import - < file)',
        this.path,
      );
    const records = parseJsonOption(text, '<records>', this.path) as unknown[];
    const options = {
      ...(values.replace === undefined ? {} : { replace: values.replace }),
      ...(values['updated-by'] === undefined ? {} : { updatedBy: values['updated-by'] }),
    };
    // Before connecting, as every option is checked: an unreachable NATS must not hide a mistake in one.
    assertOptions(options, 'importVariables');
    // An import into a new session (a backup restored elsewhere) opens it, only when the node takes the records.
    const { result: count } = await withSession(values, io, this.path, {}, (session, client) =>
      openIfAccepted(client, session, (target) => target.importVariables(records, options)),
    );
    io.out(`imported ${count} variable${count === 1 ? '' : 's'}`);
  },
});

/** The `var export` and `var import` commands. */
export const VAR_TRANSFER_COMMANDS: readonly CommandSpec[] = [exportVariables, importVariables];
