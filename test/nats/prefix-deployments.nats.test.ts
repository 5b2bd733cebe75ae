import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, connect } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

/** A node on the fixture's server with the buckets its options leave to their defaults. */
async function defaultNode(options: Parameters<typeof Runtime.start>[0] = {}) {
  const node = await Runtime.start({
    onError: () => {},
    ...options,
    nats: { servers: fx().server.url, ...options.nats },
  });
  onTestFinished(() => node.stop());
  return node;
}

describe('nodes of two prefixes on one NATS, their buckets left to the defaults', () => {
  it('are two deployments: a node of one never expires nor lists the sessions of the other', async () => {
    await defaultNode();
    const production = await connect({ servers: fx().server.url });
    onTestFinished(() => production.close());
    await (await production.session('prod1')).defineVariable('a', 'integer', 1);

    // A staging node that expires its idle sessions at once, scanning every 100 ms.
    const staging = await defaultNode({ sessionTtlMs: 400, nats: { servers: fx().server.url, prefix: 'staging' } });
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(await (await production.session('prod1')).getVariable('a')).toBe(1);
    expect((await production.listSessions()).ids).toContain('prod1');
    expect((await staging.listSessions()).ids).not.toContain('prod1');
  }, 30_000);
});
