/**
 * What a remote client knows of its own NATS connection while requests wait on it: whether it is down, how many
 * times it dropped, and who to tell when it drops and when it is back. A request compares the drops before and
 * after its wait: one that saw a drop may have lost its reply (core NATS drops what is published to a
 * disconnected subscriber), so its silence blames this client's connection rather than the node.
 * @module
 */
import { Events, type NatsConnection } from 'nats';
import { onConnectionChange, type ConnectionChange } from './connection-options.js';
import type { PermissionRefusal } from './permission-refusal.js';

/** A connection's state, as requests read it. */
export interface ConnectionLink {
  /** Whether the connection dropped and is not back yet. */
  readonly down: boolean;
  /** How many times it dropped so far: a wait that saw one more may have lost what was published to it meanwhile. */
  readonly drops: number;
  /**
   * Calls `listener` when the connection drops (`disconnected`) and when it is back (`reconnected`, once nats.js
   * has subscribed again: what is published from then on reaches the subscriptions). Returns its remover.
   */
  onChange(listener: (change: ConnectionChange) => void): () => void;
  /**
   * Calls `listener` each time the server refuses the connection a publish (its user's permissions): nats.js tells
   * it only as a connection status, as a publish has nobody waiting on it. Returns its remover.
   */
  onPublishRefused(listener: (refusal: PermissionRefusal) => void): () => void;
}

/** Where a request waits on a connection it knows nothing of: never down, never back, never refused. */
export const STEADY_LINK: ConnectionLink = {
  down: false,
  drops: 0,
  onChange: () => () => {},
  onPublishRefused: () => () => {},
};

/** A link that follows a connection until {@link FollowedLink.stop}. */
export interface FollowedLink extends ConnectionLink {
  /** Stops following the connection, for a link that ends before the connection does (a stopped service's). */
  stop(): void;
}

/** Follows `connection` from now on; `report` hears of a listener that threw. */
export function createConnectionLink(
  connection: NatsConnection,
  report: (error: unknown, where: string) => void,
): FollowedLink {
  const listeners = new Set<(change: ConnectionChange) => void>();
  const refusalListeners = new Set<(refusal: PermissionRefusal) => void>();
  let down = false;
  let drops = 0;
  const stop = onConnectionChange(connection, (change) => {
    // Counted before anyone is told: a listener that reads the link sees the change it is told of.
    if (change === 'disconnected') {
      down = true;
      drops += 1;
    } else down = false;
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        report(error, `connection ${change} listener`);
      }
    }
  });
  const stopRefusals = onPublishRefused(connection, (refusal) => {
    for (const listener of [...refusalListeners]) {
      try {
        listener(refusal);
      } catch (error) {
        report(error, 'publish refusal listener');
      }
    }
  });
  return {
    get down() {
      return down;
    },
    get drops() {
      return drops;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onPublishRefused(listener) {
      refusalListeners.add(listener);
      return () => refusalListeners.delete(listener);
    },
    stop() {
      stop();
      stopRefusals();
    },
  };
}

/** Calls `listener` with each publish the server refuses `connection`, until the returned function is called. */
function onPublishRefused(connection: NatsConnection, listener: (refusal: PermissionRefusal) => void): () => void {
  const statuses = connection.status();
  void (async () => {
    for await (const status of statuses) {
      const context = status.permissionContext;
      if (status.type === Events.Error && context?.operation === 'publish')
        listener({ operation: 'publish', subject: context.subject });
    }
  })();
  // As in onConnectionChange: nats.js's queued iterator, whose `stop` removes it from the connection's listeners.
  return () => (statuses as Partial<{ stop(): void }>).stop?.();
}

/**
 * Resolves `true` once `link` is up (at once when it is), or `false` when it is still down `waitMs` from now, or when
 * `closed` settles first (the connection gave up reconnecting: it never comes back): for work that would otherwise
 * wait out a bucket's unavailability, one operation after another, while the connection is gone.
 */
export function connectionBack(link: ConnectionLink, waitMs: number, closed?: Promise<unknown>): Promise<boolean> {
  if (!link.down) return Promise.resolve(true);
  return new Promise((resolve) => {
    let waiting = true;
    const end = (back: boolean): void => {
      if (!waiting) return;
      waiting = false;
      clearTimeout(timer);
      unlisten();
      resolve(back);
    };
    const timer = setTimeout(() => end(false), waitMs);
    const unlisten = link.onChange((change) => {
      if (change !== 'disconnected') end(true);
    });
    void closed?.then(
      () => end(false),
      () => end(false),
    );
  });
}
