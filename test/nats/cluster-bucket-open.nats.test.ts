/**
 * Opening the buckets of a deployment on a three-server JetStream cluster (`replicas: 3`). A node's start waits for
 * a busy or leaderless cluster as every store operation does, up to `unavailableRetryMs`: nodes starting together on
 * missing buckets all start (the creates that lose the race, left unanswered by nats-server 2.9.10, are followed by
 * a read of the bucket the winner made), and a node started while the meta leader's server is down starts once a new
 * one is elected, or fails with `store_unavailable`. A replicated bucket made beforehand with a value limit has it
 * honoured as the node's record limit.
 */
import { connect, Empty } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { clusterSkipped, useClusterFixture } from '../support/cluster-fixture.js';

describe.skipIf(clusterSkipped('cluster-bucket-open.nats.test'))(
  'opening the buckets of nodes on a three-server cluster',
  () => {
    const { cluster, members, newBuckets, node } = useClusterFixture();

    // A deployment's nodes start together (`docker compose up --scale tether=3`, a Kubernetes Deployment): each one
    // finds the buckets missing and creates them. On 2.9.10 the meta leader leaves the create requests that lose the
    // race unanswered; a node whose create timed out reads the bucket again and finds the one another node made.
    it('starts every node of a deployment started at once, two per server, each bucket kept on three servers', async () => {
      for (let round = 0; round < 3; round++) {
        const buckets = newBuckets();
        const starts = await Promise.allSettled(
          [...members(), ...members()].map((member, i) =>
            Runtime.start({
              llm: createEchoModel(),
              onError: () => {},
              nats: { servers: member.url, name: `together-${round}-${i}`, replicas: 3, ...buckets },
            }),
          ),
        );
        onTestFinished(() =>
          Promise.allSettled(starts.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined))).then(() => {}),
        );
        const failed = starts.flatMap((s) =>
          s.status === 'rejected' ? [`${(s.reason as { code?: string }).code}: ${(s.reason as Error).message}`] : [],
        );
        expect(failed, `round ${round}`).toEqual([]);
        const nc = await connect({ servers: members()[0]!.url });
        onTestFinished(() => nc.close());
        const jsm = await nc.jetstreamManager();
        for (const bucket of Object.values(buckets)) {
          expect((await jsm.streams.info(`KV_${bucket}`)).config.num_replicas, bucket).toBe(3);
        }
      }
    }, 120_000);

    // A node (re)started while the server leading the JetStream meta group is down (a NATS server restarting, a pod
    // rescheduled with it): the buckets exist and their streams' leaders are up. Opening them needs no meta leader,
    // creating the watches' consumers does: they are tried again until a new one is elected (4-8 s), within
    // unavailableRetryMs (15 s); past it the start would fail with store_unavailable, never internal_error.
    it('starts a node during an election of the meta leader, or fails it with store_unavailable, not internal_error', async () => {
      const buckets = newBuckets();
      await (await node(members()[0]!.url)).stop();
      const meta = (await cluster().leader())!;
      const other = members().find((m) => m !== meta)!;
      // The buckets' streams led elsewhere: only the meta group loses its leader.
      const nc = await connect({ servers: other.url });
      try {
        for (const bucket of Object.values(buckets)) {
          for (let i = 0; i < 20 && (await cluster().leader(`KV_${bucket}`)) === meta; i++) {
            await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.KV_${bucket}`, Empty, { timeout: 5000 }).catch(() => {});
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
          expect(await cluster().leader(`KV_${bucket}`)).not.toBe(meta);
        }
      } finally {
        await nc.close();
      }

      await meta.kill();
      let outcome: unknown;
      try {
        const runtime = await Runtime.start({
          llm: createEchoModel(),
          onError: () => {},
          nats: { servers: other.url, name: 'during-election', replicas: 3, ...buckets },
        });
        onTestFinished(() => runtime.stop());
        await (await runtime.session('s')).defineVariable('a', 'integer', 1);
        outcome = 'started';
      } catch (error) {
        outcome = error;
      } finally {
        await meta.restart();
        await cluster().waitHealthy();
      }
      if (outcome !== 'started') {
        expect(outcome).toMatchObject({ code: 'store_unavailable' });
      }
    }, 90_000);

    // Two of three servers gone: the last one has no quorum, so nothing creates a bucket however long the node waits.
    // Its start waits `unavailableRetryMs`, as any store operation does, then fails typed, naming the bucket.
    it('fails a start on a cluster with no quorum with store_unavailable naming the bucket, once its wait is over', async () => {
      const buckets = newBuckets();
      const [alive, ...gone] = members();
      for (const member of gone) await member.kill();
      let outcome: unknown;
      try {
        outcome = await Runtime.start({
          llm: createEchoModel(),
          onError: () => {},
          nats: { servers: alive!.url, name: 'no-quorum', replicas: 3, unavailableRetryMs: 1500, ...buckets },
        }).then(
          (runtime) => runtime.stop().then(() => 'started'),
          (error: unknown) => error,
        );
      } finally {
        for (const member of gone) await member.restart();
        await cluster().waitHealthy();
      }
      expect(outcome).toMatchObject({ code: 'store_unavailable', details: { operation: 'open' } });
      expect((outcome as Error).message).toContain(buckets.variablesBucket);
    }, 90_000);

    // An operator gave the variables bucket a value limit beforehand (replicas 3, `max_msg_size` 8192): the node
    // takes its value limit as its record limit, so a write over it, well within the node's own limit, is refused as
    // validation_failed naming the variable, before anything is written (the server would refuse it as internal_error).
    it("refuses a write over a replicated bucket's value limit as validation_failed, naming the variable", async () => {
      const buckets = newBuckets();
      const nc = await connect({ servers: members()[0]!.url });
      onTestFinished(() => nc.close());
      await nc.jetstream().views.kv(buckets.variablesBucket, { history: 64, replicas: 3, maxValueSize: 8192 });

      const runtime = await Runtime.start({
        llm: createEchoModel(),
        onError: () => {},
        nats: { servers: members()[1]!.url, name: 'value-limit', replicas: 3, ...buckets },
      });
      onTestFinished(() => runtime.stop());
      const session = await runtime.session('s');
      await session.defineVariable('note', 'string', 'short');
      const refused = await session.setVariable('note', 'x'.repeat(8000)).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'validation_failed', variable: 'note' });
      expect((refused as Error).message).toMatch(
        /^variable 'note' is \d+ bytes encoded, over this node's limit of \d+/,
      );
      expect(await session.getVariable('note')).toBe('short');
      // Values up to the limit are stored, also on this bucket, whose writes carry a message id header.
      await session.setVariable('note', 'y'.repeat(4000));
      expect(await session.getVariable('note')).toBe('y'.repeat(4000));
    }, 60_000);
  },
);
