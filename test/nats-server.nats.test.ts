import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { startNatsServer } from './support/nats-server.js';

describe('nats-server launcher', () => {
  const saved = process.env.NATS_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.NATS_URL;
    else process.env.NATS_URL = saved;
  });

  it('starts a JetStream server on a random port and stops it', async () => {
    delete process.env.NATS_URL;
    const server = await startNatsServer();
    try {
      expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await connect({ servers: server.url });
      expect((await (await nc.jetstreamManager()).getAccountInfo()).streams).toBe(0);
      await nc.close();
    } finally {
      await server.stop();
    }
    await expect(connect({ servers: server.url, reconnect: false, timeout: 500 })).rejects.toThrow();
  });

  it('fails with an install hint when the binary is missing', async () => {
    delete process.env.NATS_URL;
    await expect(startNatsServer({ binary: 'tether-no-such-nats-server' })).rejects.toThrow(
      /not found on PATH.*NATS_URL/,
    );
  });

  it('uses NATS_URL when it is set, and stop() leaves that server alone', async () => {
    process.env.NATS_URL = 'nats://127.0.0.1:4999';
    const server = await startNatsServer();
    expect(server.url).toBe('nats://127.0.0.1:4999');
    await server.stop();
  });
});
