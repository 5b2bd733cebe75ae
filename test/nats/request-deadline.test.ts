import { describe, expect, it } from 'vitest';
import { DEADLINE_GRACE_MS, pastDeadline } from '../../src/nats/request-deadline.js';

describe('pastDeadline', () => {
  it('serves a request taken exactly the grace after its deadline, and refuses it one millisecond later', () => {
    const deadline = 1_700_000_000_000;
    const header = `${deadline}/3000`;
    expect(pastDeadline('tether.v1.session.s1.var.set', header, deadline + DEADLINE_GRACE_MS)).toBeUndefined();
    expect(pastDeadline('tether.v1.session.s1.var.set', header, deadline + DEADLINE_GRACE_MS + 1)).toMatchObject({
      code: 'call_timeout',
      details: { outcome: 'not_applied', lateMs: DEADLINE_GRACE_MS + 1 },
    });
  });
});
