/**
 * What every Tether connection hands nats.js for its reconnects: by default it retries a lost server for ever, every
 * 2 s (nats.js alone gives up after 10 attempts, which left nodes dead after a short NATS restart); a policy given is
 * taken as it is, `maxAttempts: 0` (never retry) included.
 */
import { describe, expect, it } from 'vitest';
import { connectionOptions } from '../../src/nats/connection-options.js';

describe('connectionOptions', () => {
  // Found by mutation: the default could become nats.js's 10 attempts with every test passing (an outage long enough
  // to tell takes 20 s).
  it('retries a lost server for ever, every 2 s, when no reconnect policy is given', () => {
    expect(connectionOptions({ servers: 'nats://127.0.0.1:4222' })).toMatchObject({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 2000,
    });
  });

  it('takes the reconnect policy given, never retrying for maxAttempts 0', () => {
    const servers = ['nats://127.0.0.1:4222'];
    expect(connectionOptions({ servers, reconnect: { maxAttempts: 0, waitMs: 250 } })).toMatchObject({
      maxReconnectAttempts: 0,
      reconnectTimeWait: 250,
    });
    expect(connectionOptions({ servers, reconnect: { maxAttempts: 3 } })).toMatchObject({
      maxReconnectAttempts: 3,
      reconnectTimeWait: 2000,
    });
  });
});
