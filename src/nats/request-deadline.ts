/**
 * A request's deadline, carried so that a node does not carry out what its caller gave up on long ago. A node that
 * stalls (a long GC pause, a frozen VM, SIGSTOP) without losing its connection still gets its share of the queue
 * group's requests; when it resumes, it would apply writes whose callers timed out seconds earlier, over writes they
 * made and had acknowledged since. `Tether-Deadline: <epoch ms>/<timeout ms>` says when the caller stops waiting and
 * after how long; a node that takes a request that may change something more than {@link DEADLINE_GRACE_MS} later
 * refuses it unapplied, as the `call_timeout` its caller got. Reads and `open` are served whatever their deadline:
 * late, they undo nothing, and a node whose clock is off serves them still. So is a module's `cancel`: late, it
 * still stops only what its caller wanted stopped. Wall clocks of clients and nodes must agree within that grace
 * (NTP does).
 * @module
 */
import { CallTimeoutError, ValidationError } from '../errors.js';

/** The request header carrying the caller's deadline and its wait. */
export const DEADLINE_HEADER = 'Tether-Deadline';

/** How far past its deadline a node still takes a request: room for the clocks of two machines to differ. */
export const DEADLINE_GRACE_MS = 1000;

const FORMAT = /^(\d{1,15})\/(\d{1,15})$/;

/**
 * A deadline before this (2001-09-09 in ms since 1970) is no caller's: it is seconds since 1970 sent for
 * milliseconds (a Python `int(time.time())`), refused as the mistake it is.
 */
export const SECONDS_LIKELY_BELOW = 1_000_000_000_000;

/** The header value of a request whose caller waits `leftMs` more from now, of a wait of `timeoutMs` in all. */
export function deadlineHeader(leftMs: number, timeoutMs: number): string {
  return `${Date.now() + Math.max(0, Math.round(leftMs))}/${Math.max(0, Math.round(timeoutMs))}`;
}

/**
 * Whether a request with deadline header `value` is taken now more than `afterMs` after it left (its deadline less
 * its wait; a request held while its caller's connection was down counts from the call, so it looks later than it
 * is). `false` without a readable header.
 */
export function takenLate(value: string | undefined, afterMs: number, now = Date.now()): boolean {
  const parsed = value === undefined ? null : FORMAT.exec(value);
  return parsed !== null && now - (Number(parsed[1]) - Number(parsed[2])) > afterMs;
}

/**
 * The error a request with deadline header `value` gets from a node taking it now: when its caller stopped waiting
 * more than {@link DEADLINE_GRACE_MS} ago, a `call_timeout` that applied nothing (its caller's own said "unknown"); a
 * `ValidationError` naming the header when it is not `<epoch ms>/<timeout ms>`, as a bad revision header gets, or
 * gives seconds since 1970 for milliseconds.
 * `undefined` for a request still waited for, and one that gives no deadline.
 */
export function pastDeadline(
  subject: string,
  value: string | undefined,
  now = Date.now(),
): CallTimeoutError | ValidationError | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = FORMAT.exec(value);
  if (!parsed) {
    return new ValidationError(
      `header ${DEADLINE_HEADER} must be <epoch ms>/<timeout ms> in decimal digits, got '${value.slice(0, 40)}'`,
      { details: { constraint: DEADLINE_HEADER } },
    );
  }
  const deadline = Number(parsed[1]);
  // No caller's deadline, but a mistake in the header: the request did not time out, and its error says what is wrong.
  if (deadline < SECONDS_LIKELY_BELOW) {
    return new ValidationError(
      `header ${DEADLINE_HEADER} takes milliseconds since 1970, not seconds, got '${value.slice(0, 40)}'`,
      { details: { constraint: DEADLINE_HEADER } },
    );
  }
  if (now <= deadline + DEADLINE_GRACE_MS) return undefined;
  const lateMs = now - deadline;
  return new CallTimeoutError(subject, Number(parsed[2]), {
    details: {
      outcome: 'not_applied',
      deadline: new Date(deadline).toISOString(),
      lateMs,
      reason: `the node took it ${lateMs} ms after its caller stopped waiting: the node stalled, or its clock and the caller's disagree`,
    },
  });
}
