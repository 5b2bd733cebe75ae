/**
 * The watch of the node that took a request (src/nats/node-watch.ts), on fake timers and a connection that answers
 * each ping as the test says: a node counts as lost only after two pings missed in a row, never for one (it may be
 * moving to another server of the cluster), and not during the grace after the caller's own connection is back (it
 * may have been cut off by the same outage).
 */
import { ErrorCode, NatsError, type NatsConnection } from 'nats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NODE_PING_INTERVAL_MS, NODE_RECONNECT_GRACE_MS, watchNode } from '../../src/nats/node-watch.js';
import { STEADY_LINK } from '../../src/nats/connection-link.js';
import { manualLink } from '../support/manual-link.js';

/** A connection whose pings are answered (`ok`) or missed (`none`, no responders) in turn, then answered. */
function pingedConnection(...answers: ('ok' | 'none')[]) {
  const subjects: string[] = [];
  const connection = {
    request: async (subject: string) => {
      subjects.push(subject);
      if (answers.shift() === 'none') throw NatsError.errorForCode(ErrorCode.NoResponders);
      return {};
    },
    rtt: async () => 1,
  } as unknown as NatsConnection;
  return { connection, subjects };
}

describe('watchNode', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => void vi.useRealTimers());

  // Found by mutation: one miss, or two apart, could end the wait with every test passing.
  it('takes a node that misses one ping, or two that are not in a row, for alive', async () => {
    const { connection, subjects } = pingedConnection('none', 'ok', 'none', 'ok', 'none');
    const lost = vi.fn();
    const answered = vi.fn();
    const unwatch = watchNode(connection, 'n1', STEADY_LINK, lost, answered);
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 6);
    unwatch();
    expect(subjects).toHaveLength(6);
    expect(subjects[0]).toBe('$SRV.PING.tether.n1');
    expect(answered).toHaveBeenCalledTimes(3);
    expect(lost).not.toHaveBeenCalled();
  });

  it('takes a node for lost once it missed two pings in a row, and pings it no more', async () => {
    const { connection, subjects } = pingedConnection('ok', 'none', 'none');
    const lost = vi.fn();
    watchNode(connection, 'n1', STEADY_LINK, lost);
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 3);
    expect(lost).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 3);
    expect(subjects).toHaveLength(3);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  // Found by mutation: the grace could go with every test passing, and a node cut off by the caller's own outage (a
  // NATS restart) was then taken for lost before it could reconnect.
  it("counts no miss during the grace after the caller's connection is back, and counts them after it", async () => {
    const { connection } = pingedConnection(...Array<'none'>(20).fill('none'));
    const { link, drop, back } = manualLink();
    const lost = vi.fn();
    watchNode(connection, 'n1', link, lost);
    drop();
    back();
    // The first ping after the outage starts the grace; every ping within it goes unanswered.
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS + NODE_RECONNECT_GRACE_MS - 1);
    expect(lost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 2);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it("forgets a miss from before the caller's own outage: one after it is the first in a row", async () => {
    const { connection, subjects } = pingedConnection('none', 'none', 'none', 'none', 'none', 'ok');
    const { link, drop, back } = manualLink();
    const lost = vi.fn();
    watchNode(connection, 'n1', link, lost);
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS);
    drop();
    back();
    // Three pings in the grace, one missed after it, one answered.
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 5);
    expect(subjects).toHaveLength(6);
    expect(lost).not.toHaveBeenCalled();
  });

  // A permission refusal says nothing of the node: the caller waits for the reply as a plain request does.
  it('stops pinging, without taking the node for lost, when the caller may not ping it', async () => {
    const subjects: string[] = [];
    const refused = new NatsError(
      'Permissions Violation for Publish to "$SRV.PING.tether.n1"',
      ErrorCode.PermissionsViolation,
    );
    const connection = {
      request: async (subject: string) => {
        subjects.push(subject);
        throw refused;
      },
      rtt: async () => 1,
    } as unknown as NatsConnection;
    const lost = vi.fn();
    watchNode(connection, 'n1', STEADY_LINK, lost);
    await vi.advanceTimersByTimeAsync(NODE_PING_INTERVAL_MS * 5);
    expect(subjects).toHaveLength(1);
    expect(lost).not.toHaveBeenCalled();
  });
});
