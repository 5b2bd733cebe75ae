/**
 * `tether events`: every event the nodes publish (variable changes, module states and results), one JSON line
 * each, until Ctrl-C. A plain NATS subscriber, so it sees the events of every node.
 * @module
 */
import { InternalError } from '../errors.js';
import { subscribeEvents } from '../nats/event-subscriber.js';
import { natsLost, natsUnreachable } from './cli-errors.js';
import { defineCommand, type CommandSpec } from './command.js';
import { NATS_OPTIONS, SESSION_OPTION, natsPrefix, natsServers, reconnectPolicy, reportTo } from './connection.js';
import { jsonLine } from './output.js';
import { untilSignal } from './until-signal.js';

const events = defineCommand({
  path: ['events'],
  summary: "print every event (or one session's) as one JSON line until Ctrl-C",
  details: [
    'Each line is {"subject","sessionId","kind","name","data"}; kind is var or module, name the variable or module.',
    'Subscribes to <prefix>.v1.events.> (with --session: <prefix>.v1.events.<id>.>).',
    'When NATS goes away it says so on stderr and carries on once NATS is back (events meanwhile are missed);',
    'TETHER_MAX_RECONNECTS bounds the retries (default -1, for ever), then it exits 3.',
  ],
  args: [],
  options: {
    ...NATS_OPTIONS,
    session: {
      ...SESSION_OPTION.session,
      description: "only this session's events (TETHER_SESSION does not narrow it)",
    },
  },
  examples: ['tether events', 'tether events --session chat-1 | jq .data'],
  async run({ values }, io) {
    // Only --session narrows it: TETHER_SESSION is a default for commands that need a session, not a filter.
    const servers = natsServers(values, io);
    const prefix = natsPrefix(values, io);
    const reconnect = reconnectPolicy(io, this.path);
    let subscription;
    try {
      subscription = await subscribeEvents(
        {
          servers,
          name: 'tether-cli events',
          ...(prefix === undefined ? {} : { prefix }),
          ...(values.session === undefined ? {} : { sessionId: values.session }),
          reconnect,
          onError: reportTo(io),
        },
        (event) => io.out(jsonLine(event)),
      );
    } catch (error) {
      if (error instanceof InternalError) throw natsUnreachable(servers, error);
      throw error;
    }
    // On stderr, so stdout stays one JSON document per line; it also tells a script the subscription is in place.
    io.err(`tether: listening on ${subscription.subject}; Ctrl-C stops`);
    const outcome = await untilSignal(subscription.closed);
    await subscription.stop();
    if (outcome === 'lost') throw natsLost();
  },
});

/** The `events` command. */
export const EVENTS_COMMANDS: readonly CommandSpec[] = [events];
