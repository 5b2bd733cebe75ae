import { ErrorCode, NatsError, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { NatsConnectionError } from '../../src/errors.js';
import { jetStreamRefusal } from '../../src/nats/jetstream-refusal.js';
import { wrap } from '../../src/nats/kv-bucket.js';
import { publishRefusedError } from '../../src/nats/permission-refusal.js';
import { failedAt } from '../../src/nats/retry-unavailable.js';

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

/** A JetStream API answer of status 503 as nats.js makes it: the message its bare status, the description aside. */
function storeFailed(description: string): NatsError {
  const error = NatsError.errorForCode(ErrorCode.JetStreamNotEnabled, new Error(description));
  error.api_error = { code: 503, err_code: 10077, description };
  return error;
}

// Found in an audit: with the server's store directory gone under it, a new session's open said "session directory
// create of 's2' failed: 503", and a write "store put of 's1.n' failed: 503": what JetStream said was left out.
describe('a JetStream answer of status 503 that a store operation fails with', () => {
  const description = 'open /var/nats/jetstream/$G/streams/KV_tether_vars/msgs/1.blk: no such file or directory';

  it("is told in JetStream's words by a bucket operation's error", () => {
    const error = wrap(storeFailed(description), 'put', 's1.n', {
      name: 'tether_vars',
      connection: at('put').connection,
    });
    expect(error).toMatchObject({ code: 'internal_error' });
    expect(error.message).toBe(`store put of 's1.n' failed: ${description} (JetStream error 10077)`);
  });

  it("is told in JetStream's words by a failure named where it happened", () => {
    const error = failedAt("session directory create of 's2'", storeFailed(description), {});
    expect(error.message).toBe(`session directory create of 's2' failed: ${description} (JetStream error 10077)`);
  });

  it('keeps the message of an error that carries its description already', () => {
    const error = new NatsError('stream not found', ErrorCode.JetStream404NoMessages);
    error.api_error = { code: 404, err_code: 10059, description: 'stream not found' };
    expect(wrap(error, 'get', 's1.n', { name: 'tether_vars', connection: at('get').connection }).message).toBe(
      "store get of 's1.n' failed: stream not found",
    );
  });
});
