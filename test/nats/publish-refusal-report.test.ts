/**
 * The report of refused publishes (publish-refusal-report.ts), without a server: each refused subject is told once
 * however often it is refused, and the subjects remembered as told stay bounded.
 */
import { describe, expect, it } from 'vitest';
import { NatsConnectionError } from '../../src/errors.js';
import { STEADY_LINK, type ConnectionLink } from '../../src/nats/connection-link.js';
import type { PermissionRefusal } from '../../src/nats/permission-refusal.js';
import { reportPublishRefusals, TOLD_SUBJECTS_MAX } from '../../src/nats/publish-refusal-report.js';

/** A link whose refusals the test makes, and what `report` was told of them (the subjects, in order). */
function refusingLink() {
  let refused: (refusal: PermissionRefusal) => void = () => {};
  const link: ConnectionLink = {
    ...STEADY_LINK,
    onPublishRefused(listener) {
      refused = listener;
      return () => (refused = () => {});
    },
  };
  const told: NatsConnectionError[] = [];
  const stop = reportPublishRefusals(
    link,
    () => 'nats://n:4222',
    (error) => void told.push(error),
  );
  const refuse = (subject: string): void => refused({ operation: 'publish', subject });
  return { told, refuse, stop, subjects: () => told.map((error) => error.details.subject) };
}

describe('reportPublishRefusals', () => {
  it('tells a refused subject once, as nats_connection (refused) naming it, however often it is refused', () => {
    const { told, refuse, subjects } = refusingLink();
    for (let i = 0; i < 5; i += 1) refuse('tether.v1.events.s1.var.x');
    refuse('tether.v1.control.s1.session.end');
    expect(subjects()).toEqual(['tether.v1.events.s1.var.x', 'tether.v1.control.s1.session.end']);
    expect(told[0]).toBeInstanceOf(NatsConnectionError);
    expect(told[0]).toMatchObject({
      status: 'refused',
      server: 'nats://n:4222',
      details: { subject: 'tether.v1.events.s1.var.x', operation: 'publish' },
    });
    expect(told[0]!.message).toContain('Permissions Violation for Publish to "tether.v1.events.s1.var.x"');
  });

  it('forgets the longest remembered subject past its bound, and tells it again when it is refused again', () => {
    const { refuse, subjects } = refusingLink();
    for (let i = 0; i <= TOLD_SUBJECTS_MAX; i += 1) refuse(`tether.v1.events.s${i}.session`);
    refuse('tether.v1.events.s0.session');
    refuse(`tether.v1.events.s${TOLD_SUBJECTS_MAX}.session`);
    expect(subjects()).toHaveLength(TOLD_SUBJECTS_MAX + 2);
    expect(subjects().at(-1)).toBe('tether.v1.events.s0.session');
  });

  it('tells nothing once stopped', () => {
    const { refuse, stop, told } = refusingLink();
    stop();
    refuse('tether.v1.events.s1.session');
    expect(told).toEqual([]);
  });
});
