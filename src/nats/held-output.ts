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
 * what it holds ({@link HeldOutput.flushed}), within the grace its stop gives the connection (see stop-grace.ts).
 * @module
 */
import type { NatsConnection } from 'nats';
import { HeldOutputDroppedError } from '../errors.js';
import type { ConnectionLink } from './connection-link.js';
import { safeReport } from './safe-report.js';
import type { StopGrace } from './stop-grace.js';

/** The most a node holds while its connection is down: some thousands of replies, at most 32 max_payload ones. */
export const HELD_OUTPUT_MAX_BYTES = 32 * 1024 * 1024;

/** Sends now, or once the connection is back. */
export interface HeldOutput {
  /**
   * Runs `publish` now, or, while the connection is down, once it is back, after what was held before it. `bytes`
   * (its payload's size) counts against the limit. `publish` throws when what it sends is lost: run now, the throw
   * reaches the caller of `send`, to report; held, it is counted with the others lost as they were sent, all told in
   * one {@link HeldOutputDroppedError} (`send_failed`).
   */
  send(publish: () => void, bytes: number): void;
  /**
   * Resolves once nothing is held: at once, or once the connection is back (or closed for good) and what was held
   * has been sent. What is still held when `grace` runs out, {@link StopGrace.ms} after the oldest of it fell due
   * unless the stop's grace began earlier, is dropped and reported: by then its caller has taken the node for lost
   * (a stop that comes later in an outage does not wait again).
   */
  flushed(grace: StopGrace): Promise<void>;
  /**
   * Stops following the connection's close, for an output that ends before its connection does (a stopped service's):
   * nothing of it stays reachable from the connection. What is sent afterwards goes at once, as nats.js takes it: its
   * link may have stopped following the connection too, and nothing would release it.
   */
  stop(): void;
}

/** What the output reads of its connection: whether it is closed for good, and when it closes. */
export type ClosingConnection = Pick<NatsConnection, 'isClosed' | 'closed'>;

/** One reply or notice held: how to send it, its size, and when it fell due (`performance.now()`). */
interface Held {
  readonly publish: () => void;
  readonly bytes: number;
  readonly at: number;
}

/**
 * Holds what is due while `link` is down, unless `connection` is closed for good; `report` hears, once per release,
 * of what was dropped (over the limit, or still held when a stop stopped waiting) or failed when sent, each as a
 * {@link HeldOutputDroppedError} saying how many, how large, and why.
 */
export function createHeldOutput(
  link: ConnectionLink,
  report: (error: unknown, where: string) => void,
  connection: ClosingConnection,
  maxBytes = HELD_OUTPUT_MAX_BYTES,
): HeldOutput {
  let held: Held[] = [];
  let heldBytes = 0;
  /** How many were dropped over the limit since the connection went down, and their bytes. */
  let dropped = 0;
  let droppedBytes = 0;
  /** Stops waiting for the held output to go (see `flushed`). */
  const waiting = new Set<() => void>();
  // A failing reporter must not stop the rest from going out, nor leave a stop waiting.
  const reportSafely = safeReport(report);
  const tell = (error: HeldOutputDroppedError): void => reportSafely(error, 'held output');
  /** Empties the hold, telling what went over the limit, and hands what was held to `each`. */
  const release = (each: (one: Held) => void): void => {
    const due = held;
    held = [];
    heldBytes = 0;
    if (dropped > 0) tell(new HeldOutputDroppedError(dropped, 'over_limit', droppedBytes, { limit: maxBytes }));
    dropped = 0;
    droppedBytes = 0;
    for (const one of due) each(one);
    for (const stopWaiting of [...waiting]) stopWaiting();
  };
  /** Sends what is held; those that fail are reported together, `when` saying when they were sent. */
  const sendHeld = (when: 'reconnected' | 'closed'): void => {
    let failed = 0;
    let failedBytes = 0;
    let first: unknown;
    release(({ publish, bytes }) => {
      try {
        publish();
      } catch (error) {
        failed += 1;
        failedBytes += bytes;
        first ??= error;
      }
    });
    if (failed > 0) tell(new HeldOutputDroppedError(failed, 'send_failed', failedBytes, { when }, { cause: first }));
  };
  /** Drops what is held once the stop's grace of `waitedMs` ran out, reported, and ends the waits of `flushed`. */
  const drop = (waitedMs: number): void => {
    const count = held.length;
    if (count === 0) return;
    const bytes = heldBytes;
    release(() => {});
    tell(new HeldOutputDroppedError(count, 'not_back', bytes, { waitedMs }));
  };
  link.onChange((change) => {
    if (change === 'reconnected') sendHeld('reconnected');
  });
  // Closed for good while holding: sent now, to fail and be reported rather than kept forever.
  const closing = whenClosed(connection, () => sendHeld('closed'));
  let stopped = false;
  return {
    send(publish, bytes) {
      // A connection closed for good is never back: sent now, it fails where its caller reports it.
      if (!link.down || connection.isClosed() || stopped) return publish();
      if (heldBytes + bytes > maxBytes) {
        dropped += 1;
        droppedBytes += bytes;
        return;
      }
      held.push({ publish, bytes, at: performance.now() });
      heldBytes += bytes;
    },
    flushed(grace) {
      const oldest = held[0];
      if (oldest === undefined) return Promise.resolve();
      const left = grace.until(oldest.at) - performance.now();
      if (left <= 0) {
        drop(grace.ms);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const stopWaiting = (): void => {
          clearTimeout(timer);
          waiting.delete(stopWaiting);
          resolve();
        };
        const timer = setTimeout(() => drop(grace.ms), left);
        waiting.add(stopWaiting);
      });
    },
    stop() {
      stopped = true;
      closing.forget();
    },
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
