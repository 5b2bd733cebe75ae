/**
 * `watchVariables` for a remote session, built on the events subjects. The subscription is registered with the
 * server first (flush), then the current values are read, so no change falls between the two: changes that
 * arrive during the read are held back and those the read already reflects are dropped.
 *
 * Events of one variable can come from different nodes and cross on the wire; a change older (by store
 * revision) than one already delivered for that variable is skipped, so a listener never goes backwards.
 * @module
 */
import type { Subscription } from 'nats';
import type { Unwatch, VariableChange, VariableListener, WatchVariablesOptions } from '../session/session-context.js';
import { decodeValue } from '../variables/codec.js';
import { compileGlob } from '../variables/glob.js';
import { isVariableName } from '../variables/names.js';
import type { VariableRecord } from '../variables/types.js';
import type { RemoteTransport } from './remote-transport.js';
import { isVariableEvent, type VariableEvent } from './variable-events.js';

const decoder = new TextDecoder();

/** The listener's view of an event. */
function changeOf(event: VariableEvent): VariableChange {
  return {
    name: event.name,
    oldValue: 'oldValue' in event ? decodeValue(event.type, event.oldValue) : undefined,
    newValue: 'newValue' in event ? decodeValue(event.type, event.newValue) : undefined,
    version: event.version,
    updatedBy: event.updatedBy ?? null,
    ...(event.deleted ? { deleted: true as const } : {}),
  };
}

/**
 * Watches the variables of `sessionId` matching `pattern` through `transport`; `list` reads the current records
 * for `includeInitial`.
 */
export async function watchRemote(
  transport: RemoteTransport,
  sessionId: string,
  pattern: string,
  listener: VariableListener,
  options: WatchVariablesOptions,
  list: (pattern: string) => Promise<VariableRecord[]>,
): Promise<Unwatch> {
  const matches = compileGlob(pattern);
  const subjects = transport.subjects;
  // A pattern that is a plain name needs only its own subject; any other one filters the session's events here.
  const subject = isVariableName(pattern)
    ? subjects.variableEvent(sessionId, pattern)
    : subjects.variableEvents(sessionId);
  const lastRevision = new Map<string, number>();
  let held: VariableEvent[] | undefined = options.includeInitial ? [] : undefined;
  let initial = new Map<string, number>();

  const deliver = (change: VariableChange): void => {
    try {
      listener(change);
    } catch (error) {
      transport.report(error, `watcher of session ${sessionId}`);
    }
  };
  const accept = (event: VariableEvent): void => {
    if ((lastRevision.get(event.name) ?? 0) >= event.revision) return;
    // Reflected by the initial read already (same or older version of the variable it listed).
    if (!event.deleted && event.version <= (initial.get(event.name) ?? 0) && !lastRevision.has(event.name)) return;
    lastRevision.set(event.name, event.revision);
    // The listener may read the variable next, through any node: that read must not be older than this event.
    transport.observeRevision(event.revision);
    deliver(changeOf(event));
  };

  let subscription: Subscription | undefined = transport.connection.subscribe(subject, {
    callback: (error, msg) => {
      if (error) return transport.report(error, `event subscription ${subject}`);
      let event: unknown;
      try {
        event = JSON.parse(decoder.decode(msg.data));
      } catch {
        return;
      }
      if (!isVariableEvent(event) || event.sessionId !== sessionId || !matches(event.name)) return;
      if (held) held.push(event);
      else accept(event);
    },
  });
  const unwatch: Unwatch = () => {
    subscription?.unsubscribe();
    subscription = undefined;
  };

  try {
    // Once the server has the subscription, every later change reaches it: the watch is live when this resolves.
    await transport.connection.flush();
  } catch (error) {
    unwatch();
    throw error;
  }
  if (held) {
    try {
      const records = await list(pattern);
      initial = new Map(records.map((record) => [record.name, record.version]));
      for (const record of records) {
        deliver({
          name: record.name,
          oldValue: undefined,
          newValue: record.value,
          version: record.version,
          updatedBy: record.updatedBy,
        });
      }
    } catch (error) {
      unwatch();
      throw error;
    }
    const waiting = held;
    held = undefined;
    for (const event of waiting) accept(event);
  }
  return unwatch;
}
