import { NatsError } from 'nats';
import { describe, expect, it } from 'vitest';
import { InternalError, StoreUnavailableError, errorFromJSON } from '../../src/errors.js';
import { specsFailure } from '../../src/nats/module-specs-failure.js';

describe('module-specs-failure', () => {
  it('names the module of a store_unavailable the retries gave up on, keeping what they found', () => {
    const raw = new StoreUnavailableError('tether_modules', 's1.qa', 'put', 15_000, 'not_applied');

    const named = specsFailure(raw, 'tether_modules', 'create', 's1.qa');

    expect(named).toBeInstanceOf(StoreUnavailableError);
    expect(named).toMatchObject({
      bucket: 'tether_modules',
      key: 's1.qa',
      operation: 'create',
      waitedMs: 15_000,
      outcome: 'not_applied',
      details: { sessionId: 's1', moduleId: 'qa' },
    });
    expect(named.message).toContain(
      "no JetStream leader answering for 15000 ms: create of module 'qa' in session 's1'",
    );
  });

  it('keeps the reason of a store_unavailable that was not for want of a leader', () => {
    const reason = "no answer, and the key's writes after revision 4, which would tell, are no longer all kept";
    const raw = new StoreUnavailableError('tether_modules', 's1.qa', 'put', 120, 'unknown', { reason });

    const named = specsFailure(raw, 'tether_modules', 'create', 's1.qa');

    expect(named).toMatchObject({ outcome: 'unknown', details: { reason, sessionId: 's1', moduleId: 'qa' } });
    expect(named.message).toContain(`unavailable (${reason}): create of module 'qa' in session 's1'`);
    expect(named.message).not.toContain('no JetStream leader');
  });

  it('types a creation cut short by the connection closing as store_unavailable, its outcome unknown', () => {
    const closed = NatsError.errorForCode('CONNECTION_CLOSED');
    const raw = new InternalError('store put of s1.qa failed', { cause: closed });

    const named = specsFailure(raw, 'tether_modules', 'create', 's1.qa');

    expect(named).toMatchObject({ code: 'store_unavailable', waitedMs: 0, outcome: 'unknown' });
    expect(named.message).toContain("unavailable (NATS connection closed: CONNECTION_CLOSED): create of module 'qa'");
    expect(specsFailure(raw, 'tether_modules', 'read', 's1.qa')).toMatchObject({ outcome: 'not_applied' });
  });

  it('leaves other failures internal, naming the module', () => {
    const named = specsFailure(new Error('boom'), 'tether_modules', 'release', 's1.qa');

    expect(named).toBeInstanceOf(InternalError);
    expect(named.message).toBe("module specs release of module 'qa' in session 's1' failed: boom");
  });

  it('rebuilds a store_unavailable from the wire with its fields and message', () => {
    const error = new StoreUnavailableError('tether_modules', 's1.qa', 'create', 0, 'not_applied', {
      what: "create of module 'qa' in session 's1'",
      reason: 'NATS connection lost; reconnecting',
      details: { sessionId: 's1', moduleId: 'qa' },
    });

    const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(error.toJSON())) as ReturnType<typeof error.toJSON>);

    expect(rebuilt).toBeInstanceOf(StoreUnavailableError);
    expect(rebuilt).toMatchObject({ key: 's1.qa', operation: 'create', waitedMs: 0, outcome: 'not_applied' });
    expect(rebuilt.message).toBe(error.message);
    expect(rebuilt.details).toMatchObject({ reason: 'NATS connection lost; reconnecting', moduleId: 'qa' });
  });
});
