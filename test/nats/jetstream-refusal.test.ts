import { ErrorCode, NatsError, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { NatsConnectionError } from '../../src/errors.js';
import { jetStreamRefusal } from '../../src/nats/jetstream-refusal.js';
import { publishRefusedError } from '../../src/nats/permission-refusal.js';

/** A bucket operation on a connection to `nats://127.0.0.1:4222`. */
const at = (operation: string) => ({
  connection: { getServer: () => '127.0.0.1:4222' } as NatsConnection,
  bucket: 'tether_vars',
  operation,
  key: 's1.x',
});

/** nats.js's permissions violation of the subscription to a request's reply inbox. */
function inboxRefused(): NatsError {
  const error = new NatsError('Permissions Violation for Subscription to "_INBOX.>"', ErrorCode.PermissionsViolation);
  error.permissionContext = { operation: 'subscription', subject: '_INBOX.>' };
  return error;
}

describe('a JetStream operation the NATS permissions refuse', () => {
  it('is a write not sent when its publish is refused (outcome not_applied)', () => {
    const error = jetStreamRefusal(publishRefusedError('$KV.tether_vars.s1.x'), at('put'));
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({
      code: 'nats_connection',
      details: { status: 'refused', subject: '$KV.tether_vars.s1.x', bucket: 'tether_vars', outcome: 'not_applied' },
    });
    expect(error!.message).toContain("put of 's1.x' in KV bucket 'tether_vars' not sent");
  });

  it('is a write of unknown outcome when only its reply inbox is refused: the request may have been applied', () => {
    const error = jetStreamRefusal(inboxRefused(), at('put'));
    expect(error).toMatchObject({ code: 'nats_connection', details: { subject: '_INBOX.>', outcome: 'unknown' } });
    expect(error!.message).toContain('can get no answer (its reply inbox is refused)');
  });

  it('has no outcome when it writes nothing (a read)', () => {
    const error = jetStreamRefusal(inboxRefused(), at('get'));
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error!.details.outcome).toBeUndefined();
  });

  it('leaves any other failure to its caller', () => {
    expect(jetStreamRefusal(new Error('timeout'), at('put'))).toBeUndefined();
  });
});
