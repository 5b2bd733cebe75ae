/**
 * `tether var define|get|set|delete|list|history|watch|lock|unlock`: a session's variables from the command line,
 * through any node (`var export|import` are in var-transfer-commands.ts).
 * @module
 */
import { SessionError } from '../errors.js';
import { assertDefinition, assertLockArguments } from '../session/argument-checks.js';
import { assertOptions } from '../session/options.js';
import { compileGlob } from '../variables/glob.js';
import { assertVariableName } from '../variables/names.js';
import type { VariableType } from '../variables/types.js';
import { UsageError, natsLost } from './cli-errors.js';
import { CLIENT_OPTIONS, SESSION_OPTION, reportTo, withSession } from './connection.js';
import { defineCommand, type CommandSpec } from './command.js';
import { openIfAccepted, removeIfUnused } from './open-if-accepted.js';
import { historyLine, jsonLine, recordLine, recordTable } from './output.js';
import { untilSignal } from './until-signal.js';
import {
  assertNumbersReadAsWritten,
  needsVariableType,
  parseCount,
  parseJsonObject,
  isStdinValue,
  parseValue,
  valueText,
  withTypedValue,
} from './values.js';

const COMMON = { ...CLIENT_OPTIONS, ...SESSION_OPTION } as const;
const JSON_RECORD = { json: { type: 'boolean', description: 'print the whole variable record as JSON' } } as const;
/**
 * `--text`: the value is the text as it is, never read as JSON, for a document that happens to parse (a JSON file
 * piped into a string variable) or text that looks like a number.
 */
const AS_TEXT = {
  text: { type: 'boolean', description: 'take the value as the text it is, never as JSON (for text variables)' },
} as const;
const VALUE_HELP =
  'the value: JSON when it parses (0.7, true, [1,2], {"a":1}; .5 is a number too, unless the variable holds text), ' +
  'else the text as a string; text opening with { or [ that does not parse is refused unless the variable holds text ' +
  '(string, choice, module); - reads it from stdin, less one trailing newline (for values past the 128 KiB an ' +
  `argument may hold; the text - itself is '"-"')`;

const define = defineCommand({
  path: ['var', 'define'],
  summary: 'define a typed, constrained variable',
  args: [
    { name: 'name', description: 'the variable name (an ASCII letter or _, then ASCII letters, digits, _ and -)' },
    { name: 'type', description: 'float, integer, string, boolean, choice, module, embedding, tensor, json or list' },
    { name: 'value', description: VALUE_HELP, mayStartWithDash: true },
  ],
  options: {
    ...COMMON,
    constraints: { type: 'string', placeholder: '<json>', description: 'constraints, e.g. \'{"min":0,"max":2}\'' },
    description: { type: 'string', placeholder: '<text>', description: 'what the variable is for' },
    ...AS_TEXT,
    ...JSON_RECORD,
  },
  examples: [
    `tether var define temperature float 0.7 --constraints '{"min":0,"max":2}' -s chat-1`,
    `tether var define style choice terse --constraints '{"choices":["terse","verbose"]}' -s chat-1`,
    'tether var define query_vector embedding - -s chat-1 < vector.json',
    'tether var define schema_doc string - --text -s chat-1 < schema.json',
  ],
  async run({ values, args }, io) {
    const constraints =
      values.constraints === undefined ? undefined : parseJsonObject(values.constraints, '--constraints', this.path);
    const options = {
      ...(constraints === undefined ? {} : { constraints }),
      ...(values.description === undefined ? {} : { description: values.description }),
    };
    const name = String(args.name);
    const type = String(args.type);
    const given = String(args.value);
    const text = await valueText(given, io, this.path);
    if (!values.text) assertNumbersReadAsWritten(text, name, this.path);
    const value = values.text ? text : parseValue(text, type, this.path);
    const typed = (error: unknown): unknown => withTypedValue(error, text, value, isStdinValue(given));
    try {
      // The definition's own check, before connecting: an unreachable NATS must not hide a mistake in it.
      assertDefinition(name, type, value, options);
    } catch (error) {
      throw typed(error);
    }
    // The session is opened only for a define the node accepts: a refused one leaves none behind.
    const { result: record } = await withSession(values, io, this.path, {}, (session, client) =>
      // The type as typed on the command line: the node checks it (and refuses an unknown one, naming the types).
      openIfAccepted(client, session, (target) => target.defineVariable(name, type as VariableType, value, options)),
    ).catch((error: unknown) => {
      throw typed(error);
    });
    io.out(values.json ? jsonLine(record) : recordLine(record));
  },
});

const get = defineCommand({
  path: ['var', 'get'],
  summary: "print a variable's value (as JSON)",
  args: [{ name: 'name', description: 'the variable name' }],
  options: { ...COMMON, ...JSON_RECORD },
  examples: ['tether var get temperature -s chat-1', 'tether var get temperature -s chat-1 --json'],
  async run({ values, args }, io) {
    const name = checkedName(args.name);
    // The record, not just the value: its type is what lets a NaN float print as "NaN" rather than null.
    const record = await withSession(values, io, this.path, {}, (session) => session.describeVariable(name));
    io.out(jsonLine(values.json ? record : record.value));
  },
});

const set = defineCommand({
  path: ['var', 'set'],
  summary: 'write a new value (validated against the type and constraints)',
  args: [
    { name: 'name', description: 'the variable name' },
    { name: 'value', description: VALUE_HELP, mayStartWithDash: true },
  ],
  options: {
    ...COMMON,
    'expected-version': {
      type: 'string',
      placeholder: '<n>',
      description: 'compare-and-set: refuse the write unless the variable is at this version',
    },
    'updated-by': updatedByOption('who writes (recorded, and checked against a lock)'),
    reason: { type: 'string', placeholder: '<text>', description: 'why (kept in the history)' },
    ...AS_TEXT,
    ...JSON_RECORD,
  },
  examples: [
    'tether var set temperature 0.9 -s chat-1',
    'tether var set temperature 1.1 --expected-version 2 -s chat-1',
    'tether var set system_prompt - -s chat-1 < prompt.txt',
  ],
  async run({ values, args }, io) {
    const expected = values['expected-version'];
    const options = {
      ...(expected === undefined ? {} : { expectedVersion: parseCount(expected, '--expected-version', this.path, 1) }),
      ...(values['updated-by'] === undefined ? {} : { updatedBy: values['updated-by'] }),
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    };
    const name = String(args.name);
    const given = String(args.value);
    const text = await valueText(given, io, this.path);
    // Before connecting, as any value the command line cannot read is; the usage errors before the refusals.
    if (!values.text) assertNumbersReadAsWritten(text, name, this.path);
    assertVariableName(name);
    assertOptions(options, 'setVariable');
    const record = await withSession(values, io, this.path, {}, async (session) => {
      // Only text that opens like JSON and fails to parse, or a number written `.5`, needs the variable's type.
      const typeOf = async (): Promise<string> =>
        needsVariableType(text) ? (await session.describeVariable(name)).type : 'string';
      const value = values.text ? text : parseValue(text, await typeOf(), this.path);
      try {
        return await session.setVariable(name, value, options);
      } catch (error) {
        throw withTypedValue(error, text, value, isStdinValue(given));
      }
    });
    io.out(values.json ? jsonLine(record) : recordLine(record));
  },
});

const remove = defineCommand({
  path: ['var', 'delete'],
  summary: 'delete a variable (a locked one only by its owner)',
  details: [
    'Prints "variable <name> deleted". Watchers hear the deletion, with --updated-by as who did it. A variable that',
    'does not exist is variable_not_found (exit 1); one locked by someone else than --updated-by, variable_locked.',
  ],
  args: [{ name: 'name', description: 'the variable name' }],
  options: {
    ...COMMON,
    'updated-by': updatedByOption('who deletes (told to watchers, and checked against a lock)'),
  },
  examples: ['tether var delete temperature -s chat-1', 'tether var delete temperature --updated-by alice -s chat-1'],
  async run({ values, args }, io) {
    const name = checkedName(args.name);
    const options = values['updated-by'] === undefined ? {} : { updatedBy: values['updated-by'] };
    assertOptions(options, 'deleteVariable');
    await withSession(values, io, this.path, {}, (session) => session.deleteVariable(name, options));
    io.out(`variable ${name} deleted`);
  },
});

const list = defineCommand({
  path: ['var', 'list'],
  summary: "list a session's variables, optionally those matching a glob",
  args: [
    {
      name: 'pattern',
      optional: true,
      description: "a glob where * matches any run of characters, e.g. 'llm_*' (default *)",
    },
  ],
  options: { ...COMMON, json: { type: 'boolean', description: 'print the records as one JSON array' } },
  examples: ['tether var list -s chat-1', "tether var list 'llm_*' -s chat-1 --json"],
  async run({ values, args }, io) {
    const pattern = checkedPattern(args.pattern);
    const records = await withSession(values, io, this.path, {}, (session) => session.listVariables(pattern));
    if (values.json) io.out(jsonLine(records));
    else recordTable(records).forEach((line) => io.out(line));
  },
});

const history = defineCommand({
  path: ['var', 'history'],
  summary: "print a variable's kept versions, oldest first",
  details: [
    'One line per version: v<version>, the value as JSON, when, then "by <who>" and "(<reason>)" when recorded',
    '(JSON-quoted when they hold a line break or another control character).',
    "A lock is no new version, so it is not listed. Nodes keep the latest writes only (serve's --history-depth,",
    'locks counted), so the oldest versions drop out.',
  ],
  args: [{ name: 'name', description: 'the variable name' }],
  options: {
    ...COMMON,
    limit: { type: 'string', placeholder: '<n>', description: 'only the newest <n> versions' },
    json: { type: 'boolean', description: 'print the versions as one JSON array' },
  },
  examples: [
    'tether var history temperature -s chat-1',
    'tether var history temperature --limit 1 -s chat-1',
    'tether var history temperature -s chat-1 --json',
  ],
  async run({ values, args }, io) {
    const name = checkedName(args.name);
    const limit = values.limit === undefined ? undefined : parseCount(values.limit, '--limit', this.path, 1);
    const entries = await withSession(values, io, this.path, {}, (session) =>
      session.variableHistory(name, limit === undefined ? {} : { limit }),
    );
    if (values.json) io.out(jsonLine(entries));
    else entries.forEach((entry) => io.out(historyLine(entry)));
  },
});

const watch = defineCommand({
  path: ['var', 'watch'],
  summary: 'print one JSON line per accepted change until Ctrl-C',
  details: [
    'Each line is {"name","oldValue","newValue","version","updatedBy"}, in version order per variable; a deletion\'s',
    'has "deleted":true and no newValue; a current value printed by --initial has no oldValue.',
    'When NATS goes away it says so on stderr and, once NATS is back, prints the changes made meanwhile, still in',
    'order; a change it can no longer tell in full (history past its depth, a variable deleted meanwhile) has',
    '"gap":true. TETHER_MAX_RECONNECTS bounds the retries (default -1, for ever), then it exits 3. When the session',
    'is deleted or expires, it exits 1 with that error.',
  ],
  args: [{ name: 'pattern', optional: true, description: 'a glob of variable names (default *)' }],
  options: { ...COMMON, initial: { type: 'boolean', description: 'print the current values first' } },
  examples: ["tether var watch 'llm_*' -s chat-1 --initial"],
  async run({ values, args }, io) {
    const pattern = checkedPattern(args.pattern);
    // The session's end (deleted, expired) ends the watch: the command then fails with it, as one line, rather than
    // wait for ever on a watch that delivers nothing more. The client's other news goes to stderr as it comes.
    let sessionEnd: SessionError | undefined;
    let endWatch!: () => void;
    const ended = new Promise<void>((resolve) => (endWatch = resolve));
    const report = reportTo(io);
    const onError = (error: unknown, where: string): void => {
      if (!(error instanceof SessionError)) return report(error, where);
      sessionEnd ??= error;
      endWatch();
    };
    await withSession(values, io, this.path, { onError }, async (unbound, client) => {
      // A session nobody opened is `session_not_found` (exit 1), a NATS with no node `noproc` (exit 3), rather than a
      // watch waiting for ever. Then the watch is bound to the session's current life: one that reconnects after the
      // session was deleted and the id opened again ends with `session_not_found` rather than follow the id into its
      // next life, whose end event it missed.
      await unbound.listVariables(pattern);
      const session = await client.session(unbound.sessionId);
      // An open that began a life found none: the session was deleted (or expired) between the two. The watch does not
      // create one (only var define and module create do): it removes what it opened and fails as a check after the
      // deletion would have.
      if (session.created) {
        await removeIfUnused(session);
        throw new SessionError('session_not_found', session.sessionId);
      }
      const stop = await session.watchVariables(pattern, (change) => io.out(jsonLine(change)), {
        includeInitial: values.initial ?? false,
      });
      // A reader that went away (`| head -1`) ends the watch as Ctrl-C does. Listened for before the line below, which
      // a script may answer with a signal.
      const wait = untilSignal(client.closed, io.outputClosed, ended);
      try {
        // On stderr, so stdout stays one JSON document per line; it also tells a script the watch is in place.
        io.err(`tether: watching '${pattern}' in session ${session.sessionId}; Ctrl-C stops`);
        const outcome = await wait.stopped;
        stop();
        if (outcome === 'lost') throw natsLost();
        if (outcome === 'ended' && sessionEnd) throw sessionEnd;
      } finally {
        wait.release();
      }
    });
  },
});

/** `--updated-by <who>`, described for the command that takes it. */
export function updatedByOption(description: string) {
  return { type: 'string', placeholder: '<who>', description } as const;
}

const OWNER = {
  owner: { type: 'string', placeholder: '<who>', description: 'who holds the lock (required)' },
} as const;

/**
 * `var lock` or `var unlock`: the same command but for what it asks of the session. `--owner` is required, a usage
 * error before connecting when it is not given.
 */
function lockCommand(kind: 'lock' | 'unlock', summary: string, details: readonly string[]) {
  return defineCommand({
    path: ['var', kind],
    summary,
    details: [...details],
    args: [{ name: 'name', description: 'the variable name' }],
    options: { ...COMMON, ...OWNER, ...JSON_RECORD },
    examples: [`tether var ${kind} temperature --owner alice -s chat-1`],
    async run({ values, args }, io) {
      const owner = values.owner;
      if (owner === undefined) throw new UsageError('missing --owner <who>', this.path);
      const name = String(args.name);
      assertLockArguments(name, owner);
      const record = await withSession(values, io, this.path, {}, (session) =>
        kind === 'lock' ? session.lockVariable(name, owner) : session.unlockVariable(name, owner),
      );
      io.out(values.json ? jsonLine(record) : recordLine(record));
    },
  });
}

const lock = lockCommand('lock', 'lock a variable: writes and deletes by anyone but the owner are refused', [
  'A write (var set, var delete) whose --updated-by is not the owner gets variable_locked (exit 1), as does a lock',
  'or unlock by another owner. Locking again by the owner changes nothing. A lock is no new version.',
]);

const unlock = lockCommand('unlock', "release the owner's lock on a variable", [
  'Only the owner releases a lock: another owner gets variable_locked (exit 1). Unlocking a variable nobody locked',
  'changes nothing.',
]);

/**
 * The variable name argument, checked before connecting (an unreachable NATS must not hide a bad name): refused
 * as the node refuses it, `validation_failed` (exit 1), as a positional argument always is.
 */
function checkedName(name: string | undefined): string {
  assertVariableName(name);
  return name;
}

/** The glob argument (default `*`), checked before connecting as {@link checkedName} is. */
function checkedPattern(pattern: string | undefined): string {
  const glob = pattern ?? '*';
  compileGlob(glob);
  return glob;
}

/** The `var` command group. */
export const VAR_COMMANDS: readonly CommandSpec[] = [define, get, set, remove, list, history, watch, lock, unlock];
