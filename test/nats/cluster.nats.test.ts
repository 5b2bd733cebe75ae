import { connect } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NatsServerDefectError, type Runtime } from '../../src/index.js';
import { hasReplicaDefect } from '../../src/nats/server-defects.js';
import { clusterSkipped, useClusterFixture } from '../support/cluster-fixture.js';
import type { ClusterMember } from '../support/nats-cluster.js';
import { servedBy, type TestNode } from '../support/tether-node.js';
import { waitFor } from '../support/wait-for.js';

const predictSpec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;
const qaSpec = { ...predictSpec, bindings: { temperature: 'llm_temperature' } } as const;

/** How many executions the node's own process of the module has completed (0 when it never ran one). */
async function completedOn(runtime: Runtime, sessionId: string, moduleId: string): Promise<number> {
  try {
    return (await (await (await runtime.session(sessionId)).module(moduleId)).describe()).completed;
  } catch {
    return 0;
  }
}

describe.skipIf(clusterSkipped('cluster.nats.test'))('a deployment on a three-server NATS cluster', () => {
  const { fx, cluster, members, newBuckets, node, memberOf } = useClusterFixture();
  let buckets = { variablesBucket: '', sessionsBucket: '', modulesBucket: '' };

  it('tells onError once at start when its server has the replica defect (before 2.10.19), and starts even if that throws', async () => {
    buckets = newBuckets();
    const told: Array<{ error: unknown; where: string }> = [];
    await node(members()[0]!.url, { onError: (error, where) => told.push({ error, where }) });
    const { version } = await members()[0]!.monitor<{ version: string }>('/varz');
    const defects = told.filter(({ error }) => error instanceof NatsServerDefectError);
    if (!hasReplicaDefect(version)) return expect(defects).toEqual([]);
    expect(defects).toEqual([{ error: expect.any(NatsServerDefectError), where: 'nats server' }]);
    expect(defects[0]!.error).toMatchObject({
      serverVersion: version,
      buckets: [buckets.variablesBucket, buckets.sessionsBucket, buckets.modulesBucket],
    });
    // A handler that throws on it is told on stderr, and the node starts all the same.
    const thrower = await node(members()[1]!.url, {
      onError: () => {
        throw new Error('a handler that throws');
      },
    });
    expect(await thrower.requestsServed()).toBe(0);
  });

  it('serves a variable set through a client on the third server from nodes on the other two, executions on both', async () => {
    buckets = newBuckets();
    const nodes = [await node(members()[0]!.url), await node(members()[1]!.url)];
    const client = await fx().client({ servers: members()[2]!.url });
    const session = await client.session('c1');
    await session.defineVariable('llm_temperature', 'float', 0.05, { constraints: { min: 0, max: 2 } });
    const qa = await session.module('qa', qaSpec);

    for (let i = 1; i <= 10; i++) {
      const temperature = i / 10;
      await session.setVariable('llm_temperature', temperature);
      const result = await qa.execute({ question: `q${i}` });
      expect(result.provenance).toEqual({ llm_temperature: i + 1 });
      expect(result.output.answer).toContain(`temperature=${temperature}`);
    }
    // Each node's own session (fed by the node's watch of the bucket) has the client's last write.
    for (const { runtime } of nodes) {
      await waitFor(async () => (await (await runtime.session('c1')).getVariable('llm_temperature')) === 1, {
        message: 'the last write routed to the node',
      });
    }
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => qa.execute({ question: `c${i}` })));
    expect(results.every((r) => r.provenance.llm_temperature === 11)).toBe(true);
    expect(results.every((r) => String(r.output.answer).includes('temperature=1'))).toBe(true);
    const counts = await Promise.all(nodes.map((n) => completedOn(n.runtime, 'c1', 'qa')));
    expect(counts[0]! + counts[1]!).toBe(30);
    // The queue group spans the cluster: both nodes took executions.
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  }, 30_000);

  it('counts exactly 400 after two nodes on different servers × 200 concurrent increments', async () => {
    buckets = newBuckets();
    const nodes = [await node(members()[0]!.url), await node(members()[1]!.url)];
    const sessions = await Promise.all(nodes.map((n) => n.runtime.session('counter')));
    const defined = await sessions[0]!.defineVariable('n', 'integer', 0);
    await waitFor(() => sessions[1]!.hasVariable('n'), { message: 'the definition routed to the other node' });

    const records = await Promise.all(
      sessions.flatMap((s) => Array.from({ length: 200 }, () => s.updateVariable('n', (v) => (v as number) + 1))),
    );

    // Compare-and-set held across servers: every increment committed once, on the value before it.
    expect(records.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    for (const s of sessions) {
      const last = await waitFor(
        async () => {
          const record = await s.describeVariable('n');
          return record.version >= defined.version + 400 ? record : undefined;
        },
        { message: 'each node at the last version' },
      );
      expect(last.value).toBe(400);
    }
  }, 30_000);

  it('lets one of two nodes on different servers take back a deleted variable or a stopped module’s id', async () => {
    buckets = newBuckets();
    const nodes = [await node(members()[0]!.url), await node(members()[1]!.url)];
    const sessions = await Promise.all(nodes.map((n) => n.runtime.session('race')));
    const names = Array.from({ length: 40 }, (_, i) => `v${i}`);
    // Deleted and stopped: each key's last write is a delete marker, and creating it again expects that marker.
    for (const name of names) {
      await sessions[0]!.defineVariable(name, 'integer', -1);
      await sessions[0]!.deleteVariable(name);
      await (await sessions[0]!.module(`m_${name}`, predictSpec)).stop();
    }
    for (const s of sessions) {
      await waitFor(async () => !(await s.hasVariable(names.at(-1)!)), { message: 'the deletes on each node' });
    }

    const defined = await Promise.all(
      names.map((name) => Promise.allSettled(sessions.map((s, i) => s.defineVariable(name, 'integer', i)))),
    );
    const created = await Promise.all(
      names.map((name) => Promise.allSettled(sessions.map((s) => s.module(`m_${name}`, predictSpec)))),
    );
    // Exactly one creation per name; the other is told the name is taken.
    const wins = (outcomes: PromiseSettledResult<unknown>[][]): number[] =>
      outcomes.map((o) => o.filter((outcome) => outcome.status === 'fulfilled').length);
    expect(wins(defined), 'variables defined per name').toEqual(names.map(() => 1));
    expect(wins(created), 'modules created per id').toEqual(names.map(() => 1));
    for (const outcomes of [...defined, ...created]) {
      const refused = outcomes.find((o) => o.status === 'rejected');
      expect((refused as PromiseRejectedResult | undefined)?.reason).toMatchObject({ code: 'already_exists' });
    }
  }, 30_000);

  it('opens a session again right after its deletion, three lives in a row, and each defines what the last had', async () => {
    buckets = newBuckets();
    const nodes = [await node(members()[0]!.url), await node(members()[1]!.url)];
    const client = await fx().client({ servers: members()[2]!.url });
    // Deleted, a session's keys keep their purge markers on a replicated bucket until they are older than the
    // duplicate window plus a minute: each write creating one again expects its marker, with a duplicate id of its own.
    for (let life = 1; life <= 3; life += 1) {
      const session = await client.session('again');
      await session.defineVariable('a', 'integer', life);
      await session.defineVariable('b', 'string', `life ${life}`);
      await session.module('m', predictSpec);
      expect(await session.getVariable('a')).toBe(life);
      await session.delete();
    }
    // Two nodes creating one key in the same life still make one creation.
    const [first, second] = await Promise.all(nodes.map((n) => n.runtime.session('again')));
    const defined = await Promise.allSettled([first!, second!].map((s, i) => s.defineVariable('a', 'integer', i)));
    expect(defined.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(defined.find((outcome) => outcome.status === 'rejected')).toMatchObject({
      reason: { code: 'already_exists' },
    });
  }, 60_000);

  it('keeps every replica of the variables stream whole when a follower restarts after a session deletion', async () => {
    buckets = newBuckets();
    const { runtime } = await node(members()[0]!.url);
    const kept = await runtime.session('kept');
    const doomed = await runtime.session('doomed');
    for (let i = 0; i < 20; i += 1) {
      await kept.defineVariable(`k${i}`, 'integer', i);
      await doomed.defineVariable(`d${i}`, 'integer', i);
    }
    await doomed.delete();
    const stream = `KV_${buckets.variablesBucket}`;
    type Detail = { name: string; state: { messages: number; first_seq: number; last_seq: number } };
    const replicas = async () =>
      Promise.all(
        members().map(async (member) => {
          const jsz = await member.monitor<{ account_details?: { stream_detail?: Detail[] }[] }>(
            '/jsz?accounts=true&streams=true',
          );
          return jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream)?.state;
        }),
      );
    // A follower replays what the stream went through when it restarts: nats-server 2.9.10 replays a purge by subject
    // as a purge of the whole stream below it, which would drop every write of `kept` on that replica.
    const connection = await connect({ servers: members()[2]!.url });
    onTestFinished(() => connection.close());
    const manager = await connection.jetstreamManager();
    // Its markers stay for now: a follower that restarts after recent message deletes on a stream whose writes carry
    // message ids can come back with other messages than its peers (see removeMessagesUpTo).
    expect((await manager.streams.info(stream)).state.messages).toBe(40);
    for (let i = 0; i < 20; i += 1) await kept.setVariable(`k${i}`, i + 100);
    const leader = (await manager.streams.info(stream)).cluster?.leader;
    const follower = members().find((member) => member.name !== leader)!;
    await follower.kill();
    await follower.restart();
    await cluster().waitHealthy();
    await waitFor(
      async () => {
        const states = await replicas();
        return states.every((state) => state !== undefined && state.last_seq === states[0]!.last_seq);
      },
      { timeout: 20_000, interval: 200, message: 'every replica caught up' },
    );
    const states = await replicas();
    expect(states.map((state) => state!.messages)).toEqual(states.map(() => states[0]!.messages));
    expect(states[0]!.messages).toBeGreaterThanOrEqual(40);
  }, 60_000);

  it('finds a module just created through a node on a server that follows the modules stream’s leader', async () => {
    buckets = newBuckets();
    const first = await node(members()[0]!.url);
    const stream = `KV_${buckets.modulesBucket}`;
    const leader = await cluster().leader(stream);
    // A follower that answers direct gets of the stream: one may answer before it has applied the latest write.
    const follower = await waitFor(async () => {
      for (const m of members()) {
        if (m === leader) continue;
        const subsz = await m.monitor<{ num_subscriptions?: number; subscriptions_list?: { subject: string }[] }>(
          `/subsz?subs=1&test=${encodeURIComponent(`$JS.API.DIRECT.GET.${stream}`)}`,
        );
        if (subsz.subscriptions_list?.some((sub) => sub.subject === `$JS.API.DIRECT.GET.${stream}`)) return m;
      }
      return undefined;
    });
    const onFollower = follower === members()[0] ? first : await node(follower.url);
    const session = await onFollower.runtime.session('fresh');
    for (let i = 0; i < 200; i++) {
      // Creation reads the spec back: it stops the process when the bucket no longer holds its spec. Read from
      // the follower, that read found no spec now and then.
      await session.module(`qa${i}`, predictSpec);
    }
    expect(await session.modules()).toHaveLength(200);
  }, 30_000);

  it('keeps every acknowledged write and both nodes serving when the server under a node is killed', async () => {
    buckets = newBuckets();
    const nodes = [await node(cluster().urls), await node(cluster().urls)];
    const client = await fx().client({ servers: cluster().urls, reconnect: { waitMs: 250 }, timeoutMs: 3000 });
    const session = await client.session('o1');
    const victim = await waitFor(() => memberOf(nodes[0]!), { message: "node A's server" });

    const acknowledged: string[] = [];
    let afterKill = 0;
    let killed = false;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          await session.defineVariable(`w${i}`, 'integer', i);
          acknowledged.push(`w${i}`);
          if (killed) afterKill += 1;
        } catch {
          // Unacknowledged (leader election, reconnect): it may or may not be there, and is not checked. A
          // stream without a leader refuses at once: pause rather than spin.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    await waitFor(() => acknowledged.length >= 20, { message: 'writes before the kill' });
    await victim.kill();
    killed = true;
    // Node A is now on another member of the cluster.
    await waitFor(async () => (await memberOf(nodes[0]!)) !== undefined, {
      timeout: 15_000,
      interval: 100,
      message: 'node A reconnected to another server',
    });
    await waitFor(() => afterKill >= 20, { timeout: 20_000, interval: 50, message: 'writes after the kill' });
    writing = false;
    await writer;

    // Both nodes' own sessions have every acknowledged write: their watchers went on after the loss.
    for (const [index, { runtime }] of nodes.entries()) {
      const own = await runtime.session('o1');
      await waitFor(async () => (await own.getVariables(acknowledged)).missing.length === 0, {
        timeout: 15_000,
        interval: 100,
        message: `node ${index} has every acknowledged write`,
      });
    }
    // Both keep serving the client, with its writes (read-your-writes) whichever answers.
    const served = new Set<TestNode>();
    await waitFor(
      async () => {
        const [value, by] = await servedBy(nodes, () => session.getVariable(acknowledged.at(-1)!));
        expect(value).toBe(Number(acknowledged.at(-1)!.slice(1)));
        served.add(by);
        return served.size === 2;
      },
      { timeout: 15_000, message: 'both nodes answer the client' },
    );

    // The killed server comes back on its ports and store, and the cluster heals around it.
    await victim.restart();
    await cluster().waitHealthy();
    const late = await node(victim.url);
    const onLate = await late.runtime.session('o1');
    await waitFor(async () => (await onLate.getVariables(acknowledged)).missing.length === 0, {
      timeout: 15_000,
      interval: 100,
      message: 'a node on the restarted server has every acknowledged write',
    });
  }, 50_000);

  it('goes on routing other nodes’ writes when the server holding its watch dies and its own server stays up', async () => {
    buckets = newBuckets();
    const writer = await node(cluster().urls);
    const onWriter = await writer.runtime.session('r1');
    await onWriter.defineVariable('x', 'integer', 0);
    // Node B on the server leading the variables stream (writes go on while another dies), its router's
    // consumer on another that is not the meta leader either (a consumer opened again needs one). JetStream picks
    // the consumer's server, so B starts again until it has one there.
    const stream = `KV_${buckets.variablesBucket}`;
    const home = (await cluster().leader(stream))!;
    let b: TestNode | undefined;
    let victim: ClusterMember | undefined;
    // With the meta leader on a third server, one start in three places the consumer there: 20 starts all
    // miss it once in some 3,000 runs, 40 once in 10 million.
    for (let attempt = 0; attempt < 40 && !victim; attempt++) {
      b = await node(home.url);
      const meta = await cluster().leader();
      const hosts = await waitFor(
        async () => {
          const found = await cluster().consumerHostsOf(stream, b!.connectionName);
          return found.length > 0 ? found : undefined;
        },
        { interval: 50, message: "the server of node B's router consumer" },
      );
      victim = hosts.find((m) => m !== home && m !== meta);
      if (!victim) await b.stop();
    }
    expect(victim).toBeDefined();
    const onB = await b!.runtime.session('r1');
    await waitFor(async () => (await onB.getVariable('x')) === 0, { message: 'B has the variable' });

    await victim!.kill();
    // B's own connection is untouched: no reconnect tells it anything.
    expect(await memberOf(b!)).toBe(home);
    // The writer may have been on the killed server: it writes once it is back on another.
    await waitFor(async () => Boolean(await onWriter.setVariable('x', 1)), {
      timeout: 15_000,
      interval: 100,
      message: 'a write after the kill',
    });
    // nats.js alone finds the consumer gone after two missed 5 s heartbeats, and took 15 s to more than 30 here:
    // this bound holds only when the watch notices by itself. It did in 2.0-4.0 s on a quiet machine, and once in
    // more than 8 s in CI, the whole suite running on two cores beside this cluster.
    await waitFor(async () => (await onB.getVariable('x')) === 1, {
      timeout: 12_000,
      interval: 50,
      message: 'node B sees the write made through another node',
    });

    await victim!.restart();
    await cluster().waitHealthy();
  }, 45_000);
});
