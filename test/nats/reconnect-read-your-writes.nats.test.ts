import { describe, expect, it, onTestFinished } from 'vitest';
import {
  NatsConnectionError,
  createEchoModel,
  type NatsConnectionStatus,
  type RemoteSession,
} from '../../src/index.js';
import { startHoldingProxy } from '../support/holding-proxy.js';
import { useNatsFixture, usePlainConnection, type TestBuckets } from '../support/nats-fixture.js';
import { noResponders } from '../support/no-responders.js';
import { settledCode } from '../support/settled-code.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const predict = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** Resolves once somebody pings the node `serviceId` (a client watching it after a late notice). */
function firstPing(serviceId: string): Promise<void> {
  const subscription = nc().subscribe(`$SRV.PING.tether.${serviceId}`, { max: 1 });
  onTestFinished(() => subscription.unsubscribe());
  return (async () => {
    for await (const _ of subscription) return;
  })();
}

/** What a test writes through the node after its reconnect, and reads back at the revision that write gave. */
interface Case {
  readonly name: string;
  readonly bucket: (buckets: TestBuckets) => string;
  readonly prepare: (session: RemoteSession) => Promise<void>;
  readonly write: (session: RemoteSession) => Promise<void>;
  readonly read: (session: RemoteSession) => Promise<unknown>;
  readonly expected: unknown;
}

const cases: Case[] = [
  {
    name: 'variables',
    bucket: (buckets) => buckets.variablesBucket,
    prepare: async (session) => void (await session.defineVariable('x', 'integer', 0)),
    write: async (session) => void (await session.setVariable('x', 1)),
    read: (session) => session.getVariable('x'),
    expected: 1,
  },
  {
    name: 'modules',
    bucket: (buckets) => buckets.modulesBucket,
    prepare: async () => {},
    write: async (session) => void (await session.module('qa', predict)),
    // A module request carries the modules revision the creation's reply gave.
    read: async (session) => (await (await session.module('qa')).describe()).moduleId,
    expected: 'qa',
  },
];

describe('read-your-writes through a reconnect', () => {
  it.each(cases)(
    "answers a request at a $name revision the node applies once its watch is back, not call_timeout at the wait's bound",
    async ({ bucket, prepare, write, read, expected }) => {
      const buckets = fx().buckets();
      // The node's consumer creations for the bucket can be held: its watch, resumed on the reconnect, then stays
      // down, as it does while a server of the cluster is down.
      const creates = `$JS.API.CONSUMER.CREATE.KV_${bucket(buckets)}`;
      const proxy = await startHoldingProxy(fx().server.url, (s) => s === creates || s.startsWith(`${creates}.`));
      onTestFinished(() => proxy.close());
      const statuses: NatsConnectionStatus[] = [];
      const node = await fx().node(buckets, {
        llm: createEchoModel(),
        servers: proxy.url,
        nats: { reconnect: { waitMs: 100 } },
        onError: (error) => {
          if (error instanceof NatsConnectionError) statuses.push(error.status);
        },
      });
      // The default timeout: a late notice lets the client wait as long as the node says.
      const client = await fx().client();
      const session = await client.session('s');
      await prepare(session);

      proxy.hold();
      proxy.cut();
      proxy.restore();
      await waitFor(() => statuses.includes('reconnected'), { message: 'the node reconnects' });
      await waitFor(async () => !(await noResponders(nc(), `$SRV.PING.tether.${node.serviceId}`)), {
        message: 'the node serves again',
      });
      // The node's own write: its reply gives the client a revision the node's watch has not applied (it is not
      // open again), so the read that follows waits for it there.
      await write(session);
      const reading = read(session);
      const outcome = settledCode(reading);
      // The client pings the node a ping interval (2 s) after the late notice, which came a second after the node
      // took the read: by then the node's 2 s wait has run out, and its timer fired before the client's (same
      // process). Without the outage counted, the node has answered call_timeout by then.
      await Promise.race([firstPing(node.serviceId), outcome]);
      proxy.release();
      expect(await outcome).toBe('resolved');
      expect(await reading).toBe(expected);
    },
    30_000,
  );
});
