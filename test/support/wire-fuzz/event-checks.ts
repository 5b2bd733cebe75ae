/**
 * The events a reply implies: a node publishes a write's variable events before it replies, on its one connection,
 * so once the reply is in, exactly the events of what the reply says was written are in too, and no session
 * event unless a session was deleted.
 * @module
 */
import type { NatsConnection } from 'nats';
import { canonical } from './json-text.js';
import type { Report } from './deviations.js';
import type { ExpectedEvent } from './model-updates.js';

/** The events received since the last {@link EventLog.clear}. */
export interface EventLog {
  /** Variable events of the fuzzed session, with their subject. */
  readonly variableEvents: Record<string, any>[];
  /** Subjects of session events (of any session). */
  readonly sessionEvents: string[];
  clear(): void;
  stop(): void;
}

/** Subscribes to session `sid`'s variable events and to every session's events; resolves once the server has both. */
export async function recordEvents(nc: NatsConnection, sid: string): Promise<EventLog> {
  const variableEvents: Record<string, any>[] = [];
  const sessionEvents: string[] = [];
  const variables = nc.subscribe(`tether.v1.events.${sid}.var.>`, {
    callback: (_error, msg) => {
      try {
        variableEvents.push({ subject: msg.subject, ...msg.json<object>() });
      } catch {
        variableEvents.push({ subject: msg.subject, unreadable: msg.data.length });
      }
    },
  });
  const sessions = nc.subscribe('tether.v1.events.*.session', {
    callback: (_error, msg) => sessionEvents.push(msg.subject),
  });
  await nc.flush();
  return {
    variableEvents,
    sessionEvents,
    clear() {
      variableEvents.length = 0;
      sessionEvents.length = 0;
    },
    stop() {
      variables.unsubscribe();
      sessions.unsubscribe();
    },
  };
}

const key = (e: { name: string; version: number; deleted?: boolean }) =>
  `${e.name}@${e.version}${e.deleted ? ' deleted' : ''}`;

/**
 * Compares the events `log` received for one request with those its reply implies (`expected`), fields included;
 * `deletedSession` says whether the reply was a successful `delete` (the only request with a session event);
 * `countsCompared` is false when the model could not be applied (a bad id in the subject), so no list is implied.
 */
export function checkEvents(
  log: EventLog,
  expected: readonly ExpectedEvent[],
  {
    sid,
    label,
    deletedSession,
    countsCompared,
  }: { sid: string; label: string; deletedSession: boolean; countsCompared: boolean },
  report: Report,
): void {
  const got = log.variableEvents.map((e) => key(e as ExpectedEvent)).sort();
  const want = expected.map(key).sort();
  if (countsCompared && canonical(got) !== canonical(want))
    report(`variable events ${canonical(got)} != expected ${canonical(want)}: ${label}`);
  for (const event of log.variableEvents) {
    const wanted = expected.find((x) => x.name === event.name && x.version === event.version);
    if (!wanted) continue;
    const shown = () => JSON.stringify(event).slice(0, 200);
    if (event.sessionId !== sid || event.subject !== `tether.v1.events.${sid}.var.${event.name}`) {
      report(`event subject/sessionId ${event.subject} ${event.sessionId}: ${label}`);
    }
    if (!wanted.deleted && canonical(event.newValue) !== canonical(wanted.value)) {
      report(
        `event newValue ${canonical(event.newValue).slice(0, 100)} != ${canonical(wanted.value).slice(0, 100)}: ${label}`,
      );
    }
    if (wanted.deleted && ('newValue' in event || event.deleted !== true)) report(`delete event ${shown()}: ${label}`);
    if (canonical(event.updatedBy) !== canonical(wanted.updatedBy)) {
      report(`event updatedBy ${canonical(event.updatedBy)} != ${canonical(wanted.updatedBy)}: ${label}`);
    }
    if (typeof event.revision !== 'number' || typeof event.id !== 'string') {
      report(`event without revision/id ${shown()}: ${label}`);
    }
  }
  if (log.sessionEvents.length && !deletedSession) report(`session events ${log.sessionEvents.join(',')}: ${label}`);
}
