/**
 * The commands that follow what the nodes publish, until Ctrl-C: `tether events` (variable changes, module
 * states and results) and `tether inspect` (the snapshots of the session and module processes of nodes started
 * with `--inspect`). Plain NATS subscribers, so they see every node.
 * @module
 */
import { InternalError, NatsConnectionError } from '../errors.js';
import type { InspectedSnapshot } from '../nats/inspection.js';
import { subscribeEvents } from '../nats/event-subscriber.js';
import type { InspectedEvent, TetherEvent } from '../nats/tether-event.js';
import { natsLost, natsUnreachable } from './cli-errors.js';
import { defineCommand, type CliIo, type CommandSpec } from './command.js';
import {
  CONNECT_TIMEOUT_MS,
  NATS_OPTIONS,
  SESSION_OPTION,
  checkedSessionId,
  natsPrefix,
  natsTarget,
  pingInterval,
  reconnectPolicy,
  reportTo,
} from './connection.js';
import { jsonLine, oneLine, shownText } from './output.js';
import { untilSignal } from './until-signal.js';

const RECONNECT_DETAILS = [
  'When NATS goes away it says so on stderr and carries on once NATS is back (messages meanwhile are missed);',
  'TETHER_MAX_RECONNECTS bounds the retries (default -1, for ever), then it exits 3.',
];

const SESSION_FILTER = {
  session: {
    ...SESSION_OPTION.session,
    description: "only this session's messages (TETHER_SESSION does not narrow it)",
  },
} as const;

/**
 * Subscribes to `feed`, hands each message to `print`, and returns once Ctrl-C, a lost NATS or a closed stdout ends
 * it.
 */
async function follow(
  feed: 'events' | 'inspect',
  values: { readonly nats?: string; readonly prefix?: string; readonly session?: string },
  io: CliIo,
  path: readonly string[],
  print: (event: TetherEvent | InspectedEvent) => void,
): Promise<void> {
  // Only --session narrows it: TETHER_SESSION is a default for commands that need a session, not a filter.
  const { servers, credentials } = natsTarget(values, io, path);
  const prefix = natsPrefix(values, io, path);
  const sessionId = values.session === undefined ? undefined : checkedSessionId(values.session, '--session', path);
  let subscription;
  try {
    subscription = await subscribeEvents(
      {
        servers,
        ...credentials,
        name: `tether-cli ${feed}`,
        feed,
        ...(prefix === undefined ? {} : { prefix }),
        ...(sessionId === undefined ? {} : { sessionId }),
        reconnect: reconnectPolicy(io, path),
        ...pingInterval(io, path),
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        onError: reportTo(io),
      },
      print,
    );
  } catch (error) {
    // A subscription the server refused says so itself (exit 3 too): NATS was reached.
    if (error instanceof NatsConnectionError && error.status === 'refused') throw error;
    if (error instanceof NatsConnectionError || error instanceof InternalError) throw natsUnreachable(servers, error);
    throw error;
  }
  // Ended by Ctrl-C, a lost NATS, or a reader that went away (`| head -1`): the subscription stops cleanly either way.
  // Listened for before the line below, which a script may answer with a signal.
  const wait = untilSignal(subscription.closed, io.outputClosed);
  try {
    // On stderr, so stdout stays one line per message; it also tells a script the subscription is in place.
    io.err(`tether: listening on ${subscription.subject}; Ctrl-C stops`);
    const outcome = await wait.stopped;
    await subscription.stop();
    if (outcome === 'lost') throw natsLost();
  } finally {
    wait.release();
  }
}

const events = defineCommand({
  path: ['events'],
  summary: "print every event (or one session's) as one JSON line until Ctrl-C",
  details: [
    'Each line is {"subject","sessionId","kind","name","data"}; kind is var, module or session (the session ended),',
    'name the variable or module ("" for session).',
    'Subscribes to <prefix>.v1.events.> (with --session: <prefix>.v1.events.<id>.>).',
    ...RECONNECT_DETAILS,
  ],
  args: [],
  options: { ...NATS_OPTIONS, ...SESSION_FILTER },
  examples: ['tether events', 'tether events --session chat-1 | jq .data'],
  async run({ values }, io) {
    await follow('events', values, io, this.path, (event) => io.out(jsonLine(event)));
  },
});

const inspect = defineCommand({
  path: ['inspect'],
  summary: 'print each transition of the session and module processes of nodes served with --inspect',
  details: [
    'One line per snapshot: time, node, session, process (session, or module <id>), event → state; a crash adds',
    '[error] and its code and message.',
    'With --json, the whole snapshot instead (machine, node, event, value, status, context), one JSON line each.',
    'Subscribes to <prefix>.v1.inspect.> (with --session: <prefix>.v1.inspect.<id>.>); only nodes started with',
    "'tether serve --inspect' (or nats.inspect) publish there.",
    ...RECONNECT_DETAILS,
  ],
  args: [],
  options: {
    ...NATS_OPTIONS,
    ...SESSION_FILTER,
    json: { type: 'boolean', description: 'print each snapshot whole, as one JSON line' },
  },
  examples: ['tether inspect --session chat-1', 'tether inspect --json | jq \'select(.machine == "module")\''],
  async run({ values }, io) {
    await follow('inspect', values, io, this.path, (event) =>
      io.out(values.json === true ? jsonLine(event.data) : transitionLine(event.data as InspectedSnapshot)),
    );
  },
});

/**
 * One inspected snapshot for people: `12:00:01.234  node-a  chat-1  module qa  execute → executing`. The time
 * (UTC) is when it arrived here; a status other than active follows the state in brackets, and after a crash, the
 * error's code and message follow that.
 */
export function transitionLine(snapshot: InspectedSnapshot, at: Date = new Date()): string {
  // Whoever publishes on the inspect subjects (or names a node) writes these fields: each is shown escaped, and one
  // missing as `?`. A message of JSON null, a number or text has none (null had the listener fail on each).
  const fields: Partial<InspectedSnapshot> = typeof snapshot === 'object' && snapshot !== null ? snapshot : {};
  const shown = (field: unknown): string => (field === undefined || field === null ? '?' : shownText(String(field)));
  const process = fields.machine === 'module' ? `module ${shown(fields.moduleId)}` : 'session';
  const event = (fields.event as { type?: unknown } | undefined)?.type;
  const status = fields.status === 'active' ? '' : ` [${shown(fields.status)}]`;
  const state = fields.value === undefined ? undefined : stateLabel(fields.value);
  const time = at.toISOString().slice(11, 23);
  const transition = `${shown(event)} → ${shown(state)}${status}${crashOf(fields.error)}`;
  return `${time}  ${shown(fields.node)}  ${shown(fields.sessionId)}  ${process}  ${transition}`;
}

/** Longest part of a crash's message a line shows; --json has it whole. */
const CRASH_MESSAGE_CHARS = 200;

/**
 * ` <code>: <message>` of a crash's error, on one line and cut short, or nothing when the snapshot carries none:
 * without it, a watcher saw that a process died but not why.
 */
function crashOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { code, message } = error as { code?: unknown; message?: unknown };
  const parts: string[] = [];
  if (typeof code === 'string' && code !== '') parts.push(shownText(code));
  if (typeof message === 'string' && message !== '') {
    // Cut by code point before escaping, so neither a character nor its escape is split.
    const points = [...message.replace(/\s*\n\s*/g, ' ').trim()];
    const cut =
      points.length > CRASH_MESSAGE_CHARS ? `${points.slice(0, CRASH_MESSAGE_CHARS).join('')}…` : points.join('');
    parts.push(oneLine(cut));
  }
  return parts.length === 0 ? '' : ` ${parts.join(': ')}`;
}

/** A state value as a path: `'idle'`, `{ active: 'idle' }` → `active.idle`; parallel regions joined by `, `. */
function stateLabel(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return jsonLine(value);
  return Object.entries(value)
    .map(([key, child]) =>
      child !== null && typeof child === 'object' && Object.keys(child).length === 0
        ? key
        : `${key}.${stateLabel(child)}`,
    )
    .join(', ');
}

/** The `events` and `inspect` commands. */
export const FOLLOW_COMMANDS: readonly CommandSpec[] = [events, inspect];
