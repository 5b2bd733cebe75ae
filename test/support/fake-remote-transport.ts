/**
 * A remote transport with no NATS behind it, for the remote watch's unit tests: the test delivers the variable
 * events and the connection changes itself, and reads what the watch reported and which revisions it observed.
 */
import type { ConnectionChange } from '../../src/nats/connection-options.js';
import type { RemoteTransport } from '../../src/nats/remote-transport.js';
import type { VariableEvent } from '../../src/nats/variable-events.js';

/** A transport with no NATS behind it: the test delivers events and connection changes itself. */
export function fakeTransport() {
  let callback: ((error: Error | null, msg: { data: Uint8Array }) => void) | undefined;
  let onChange: ((change: ConnectionChange) => void) | undefined;
  const fake = {
    revision: 0,
    closed: false,
    reported: [] as unknown[],
    /** Where each of {@link reported} was told to have happened (`onError`'s second argument). */
    reportedWhere: [] as string[],
    /** What the watch told as its session's end (see `RemoteTransport.reportEnd`). */
    ended: [] as unknown[],
    /** Subscriptions made and not ended. */
    subscriptions: 0,
    subjects: { variableEvent: () => 'events.s.x', variableEvents: () => 'events.s', sessionEvent: () => 'session.s' },
    connection: {
      subscribe: (subject: string, options: { callback: typeof callback }) => {
        // The variable events' subscription (the session's end is never published here).
        if (subject !== 'session.s') callback = options.callback;
        fake.subscriptions += 1;
        return { unsubscribe: () => void (fake.subscriptions -= 1) };
      },
      isClosed: () => fake.closed,
    },
    subscribed: async () => undefined,
    onConnectionChange: (listener: (change: ConnectionChange) => void) => {
      onChange = listener;
      return () => undefined;
    },
    onVariablesReset: () => () => undefined,
    observeRevision: (revision: number) => {
      fake.revision = Math.max(fake.revision, revision);
    },
    report: (error: unknown, where: string) => {
      fake.reported.push(error);
      fake.reportedWhere.push(where);
    },
    reportEnd: (_sessionId: string, error: unknown) => fake.ended.push(error),
  };
  const encoder = new TextEncoder();
  return {
    fake,
    transport: fake as unknown as RemoteTransport,
    emit: (each: VariableEvent) => callback?.(null, { data: encoder.encode(JSON.stringify(each)) }),
    change: (change: ConnectionChange) => onChange?.(change),
  };
}
