/**
 * What a node sends its callers, held while its own connection is down. nats.js drops what is published while the
 * connection is down (its output is reset as it dials again), and a caller whose own connection stayed up has no
 * reason to ask for a reply it never got: an execution that finished during a blip of its node's connection would be
 * waited for to its timeout. So a reply or an acceptance notice due while the connection is down waits for it, and
 * goes, in order, once it is back (what nats.js has subscribed again by then; the caller's reply subject is the
 * caller's own, still there). A caller that asks for a kept reply meanwhile settles on whichever comes first.
 *
 * Bounded: past {@link HELD_OUTPUT_MAX_BYTES}, what is due is dropped and reported, as it was before (the callers
 * then wait for their timeouts, or ask once their own connections drop). A connection closed for good is never
 * back: what it held is sent then, to fail and be reported, and nothing more is held. A stopping node waits for
 * what it holds ({@link HeldOutput.flushed}), for a bounded time.
 * @module
 */
import type { NatsConnection } from 'nats';
import type { ConnectionLink } from './connection-link.js';

/** The most a node holds while its connection is down: some thousands of replies, at most 32 max_payload ones. */
export const HELD_OUTPUT_MAX_BYTES = 32 * 1024 * 1024;

/** Sends now, or once the connection is back. */
export interface HeldOutput {
  /**
   * Runs `publish` now, or, while the connection is down, once it is back, after what was held before it. `bytes`
   * (its payload's size) counts against the limit.
   */
  send(publish: () => void, bytes: number): void;
  /**
   * Resolves once nothing is held: at once, or once the connection is back (or closed for good) and what was held
   * has been sent. What is still held after `waitMs` is dropped and reported.
   */
  flushed(waitMs: number): Promise<void>;
  /**
   * Stops following the connection's close, for an output that ends before its connection does (a stopped service's):
   * nothing of it stays reachable from the connection.
   */
  stop(): void;
}

/** What the output reads of its connection: whether it is closed for good, and when it closes. */
export type ClosingConnection = Pick<NatsConnection, 'isClosed' | 'closed'>;

/**
 * Holds what is due while `link` is down, unless `connection` is closed for good; `report` hears of what was dropped
 * (over the limit, or still held when a stop stopped waiting) or failed when sent.
 */
export function createHeldOutput(
  link: ConnectionLink,
  report: (error: unknown, where: string) => void,
  connection: ClosingConnection,
  maxBytes = HELD_OUTPUT_MAX_BYTES,
): HeldOutput {
  let held: { readonly publish: () => void; readonly bytes: number }[] = [];
  let heldBytes = 0;
  /** How many were dropped over the limit since the connection went down. */
  let dropped = 0;
  /** Stops waiting for the held output to go (see `flushed`). */
  const waiting = new Set<() => void>();
  const run = (publish: () => void): void => {
    try {
      publish();
    } catch (error) {
      report(error, 'sending what was held while the connection was down');
    }
  };
  /** Empties the hold, telling what went over the limit, and hands what was held to `each`. */
  const release = (each: (publish: () => void) => void): void => {
    const due = held;
    held = [];
    heldBytes = 0;
    if (dropped > 0) {
      report(
        new Error(
          `dropped ${dropped} of the replies and notices due while the connection was down: over the ` +
            `${maxBytes} bytes held at most`,
        ),
        'held output',
      );
      dropped = 0;
    }
    for (const { publish } of due) each(publish);
    for (const stopWaiting of [...waiting]) stopWaiting();
  };
  link.onChange((change) => {
    if (change === 'reconnected') release(run);
  });
  // Closed for good while holding: sent now, each fails and is reported rather than kept forever.
  const closing = whenClosed(connection, () => release(run));
  return {
    send(publish, bytes) {
      // A connection closed for good is never back: sent now, it fails where its caller reports it.
      if (!link.down || connection.isClosed()) return publish();
      if (heldBytes + bytes > maxBytes) {
        dropped += 1;
        return;
      }
      held.push({ publish, bytes });
      heldBytes += bytes;
    },
    flushed(waitMs) {
      if (held.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const stopWaiting = (): void => {
          clearTimeout(timer);
          waiting.delete(stopWaiting);
          resolve();
        };
        const timer = setTimeout(() => {
          const count = held.length;
          release(() => {});
          report(
            new Error(
              `dropped ${count} of the replies and notices due while the connection was down: it was not back ` +
                `within ${waitMs} ms of the stop`,
            ),
            'held output',
          );
        }, waitMs);
        waiting.add(stopWaiting);
      });
    },
    stop: closing.forget,
  };
}

/**
 * Calls `then` once `connection` closes, unless {@link forget} came first. The connection keeps its reaction until it
 * closes, and that reaction reaches `then` only through a holder that `forget` empties: built here, away from the
 * output's own scope, it keeps nothing else of it.
 */
function whenClosed(connection: ClosingConnection, then: () => void): { forget(): void } {
  const holder: { then?: () => void } = { then };
  void connection.closed().then(() => holder.then?.());
  return { forget: () => void delete holder.then };
}
