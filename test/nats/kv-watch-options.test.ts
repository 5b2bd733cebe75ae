import type { NatsConnection, ServerInfo } from 'nats';
import { describe, expect, it } from 'vitest';
import { watchOptionsFor } from '../../src/nats/kv-watch-options.js';

/** A connection whose server announced `info`: all `watchOptionsFor` reads of it when it builds the options. */
const connectedTo = (info: Partial<ServerInfo>): NatsConnection => ({ info }) as unknown as NatsConnection;

describe('watchOptionsFor', () => {
  // The README's figures for a watch that gets nothing: a second after its last delivery, less and less often to
  // every 5 s on one server, every second in a cluster (where a consumer's server can die at any time).
  it('checks a quiet watch a second after its last delivery, backing off to 5 s on one server', () => {
    expect(watchOptionsFor(connectedTo({ jetstream: true }), 'vars', 15_000).idleCheck).toEqual({
      firstMs: 1000,
      maxMs: 5000,
    });
  });

  it('checks a quiet watch every second when its server is part of a cluster', () => {
    expect(watchOptionsFor(connectedTo({ jetstream: true, cluster: 'c1' }), 'vars', 15_000).idleCheck).toEqual({
      firstMs: 1000,
      maxMs: 1000,
    });
  });
});
