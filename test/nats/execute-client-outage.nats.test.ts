import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectNats } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ExecutionUnknownError,
  NatsConnectionError,
  Runtime,
  connect,
  type ExecutionResult,
  type NatsConnectionStatus,
  type NatsNodeOptions,
} from '../../src/index.js';
import {
  NODE_MISSED_PINGS,
  NODE_PING_INTERVAL_MS,
  NODE_PING_TIMEOUT_MS,
  NODE_RECONNECT_GRACE_MS,
} from '../../src/nats/watched-request.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { useOpenAIStub } from '../support/openai-stub.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

const stubbed = useOpenAIStub();
const spec = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 };
// Short reconnect waits: back within ~100 ms of the server; nothing here times the speed.
const reconnect = { waitMs: 100 };
let count = 0;

/** A server whose store outlives it, so the test can stop it and start it again on the same port. */
async function restartableServer() {
  const storeDir = await mkdtemp(join(tmpdir(), 'tether-execute-outage-'));
  let server: NatsTestServer = await startNatsServer({ storeDir });
  const port = Number(new URL(server.url).port);
  let running = true;
  onTestFinished(async () => {
    await server.stop();
    await rm(storeDir, { recursive: true, force: true });
  });
  return {
    url: server.url,
    async stop() {
      running = false;
      await server.stop();
    },
    async start() {
      if (running) return;
      server = await startNatsServer({ storeDir, port });
      running = true;
    },
  };
}

/** Connection statuses as a node's or a client's `onError` hears them. */
function statusLog() {
  const statuses: NatsConnectionStatus[] = [];
  return {
    statuses,
    onError: (error: unknown) => {
      if (error instanceof NatsConnectionError) statuses.push(error.status);
    },
    times: (status: NatsConnectionStatus) => statuses.filter((each) => each === status).length,
  };
}

/**
 * A node (its LLM the stub) and a remote client's handle of module `qa` it serves; `clientUrl`: the client's way in;
 * `nats`: more of the node's options.
 */
async function nodeAndModule(url: string, clientUrl = url, nats: Partial<NatsNodeOptions> = {}) {
  count += 1;
  const id = `${process.pid}_${Date.now()}_${count}`;
  const node = statusLog();
  const runtime = await Runtime.start({
    llm: stubbed.llm(),
    onError: node.onError,
    nats: {
      servers: url,
      variablesBucket: `vars_${id}`,
      sessionsBucket: `sessions_${id}`,
      modulesBucket: `modules_${id}`,
      reconnect,
      ...nats,
    },
  });
  const client = statusLog();
  const remote = await connect({ servers: clientUrl, reconnect, onError: client.onError });
  onTestFinished(async () => {
    await remote.close();
    await runtime.stop();
  });
  const session = await remote.session(`outage_${count}`);
  const qa = await session.module('qa', spec);
  return { node, client, qa, session, runtime };
}

/** Longer than a node that misses every ping takes to be declared lost. */
const LOST_AFTER_MS = (NODE_PING_INTERVAL_MS + NODE_PING_TIMEOUT_MS) * NODE_MISSED_PINGS + NODE_PING_INTERVAL_MS;

// These tests stop and restart their own servers; a suite pointed at a shared NATS_URL cannot do that.
describe.skipIf(process.env.NATS_URL !== undefined)('remote execute while the client is disconnected', () => {
  it('waits through a NATS restart and resolves with the reply of the node that ran it', async () => {
    const server = await restartableServer();
    const { node, client, qa } = await nodeAndModule(server.url);
    stubbed.stub().hold();
    const running = qa.execute({ question: 'still there?' }, { timeoutMs: 60_000 });
    const settled = running.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });

    await server.stop();
    await waitFor(() => client.times('disconnected') === 1, { message: 'the client sees the outage' });
    // Down for longer than a node that stopped answering takes to be declared lost: it is not that node's fault.
    const early = await Promise.race([
      settled,
      new Promise((resolve) => setTimeout(() => resolve('pending'), LOST_AFTER_MS)),
    ]);
    expect(early).toBe('pending');
    await server.start();
    await waitFor(() => client.times('reconnected') === 1 && node.times('reconnected') === 1, {
      timeout: 10_000,
      message: 'the node and the client reconnect',
    });

    stubbed.stub().release();
    expect((await running).output).toEqual({ answer: 'stub answer' });
  }, 40_000);

  it('rejects with nats_connection, naming its own connection, when it is still down at the timeout', async () => {
    const server = await restartableServer();
    const { qa } = await nodeAndModule(server.url);
    stubbed.stub().hold();
    const running = qa.execute({ question: 'anyone?' }, { timeoutMs: 3_000 });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
    await server.stop();

    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ code: 'nats_connection', status: 'disconnected' });
    expect((error as Error).message).toMatch(
      /module\.qa\.execute' got no reply .*dropped while it waited and is still down/,
    );
    // Back for the clean stop of the node and the client.
    await server.start();
  }, 30_000);

  it('resolves with the reply the node sent while the client was away, once the client is back', async () => {
    const server = await restartableServer();
    const cut = await clientCutOff(server.url);
    const { qa, results, client } = cut;
    stubbed.stub().hold();
    // Far longer than the test: only the reply the node kept can settle it in time.
    const running = qa.execute({ question: 'did you answer?' }, { timeoutMs: 600_000 });
    await cut.accepted();

    await cut.replyWhileAway();
    expect(results).toHaveLength(1);
    cut.proxy.restore();
    await waitFor(() => client.times('reconnected') === 1, { message: 'the client is back' });

    expectTheRunWhileAway(await running, results);
  }, 30_000);

  it('recovers the reply sent while the client was away when the acceptance notice was lost with it', async () => {
    const cut = await inboxesHeldCutOff((await restartableServer()).url);
    const { qa, results, client, inboxes } = cut;
    stubbed.stub().hold();
    inboxes.hold();
    // Shorter than the test: without a node to ask, it would end with nats_connection.
    const running = qa.execute({ question: 'who took it?' }, { timeoutMs: 20_000 });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
    await cut.replyWhileAway();
    inboxes.release();
    cut.proxy.restore();
    await waitFor(() => client.times('reconnected') === 1, { message: 'the client is back' });

    expectTheRunWhileAway(await running, results);
  }, 40_000);

  it('watches the node that answers it still runs the execution whose acceptance notice was lost', async () => {
    const cut = await inboxesHeldCutOff((await restartableServer()).url);
    const { qa, client, inboxes } = cut;
    stubbed.stub().hold();
    inboxes.hold();
    const running = qa.execute({ question: 'who has it?' }, { timeoutMs: 600_000 });
    await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
    cut.proxy.cut();
    await waitFor(() => client.times('disconnected') === 1, { message: 'the client cut off' });
    inboxes.release();
    cut.proxy.restore();
    await waitFor(() => client.times('reconnected') === 1, { message: 'the client is back' });

    // The client pings only a node it knows: the one that answered the question to every node.
    await cut.accepted();
    stubbed.stub().release();
    expect((await running).output).toEqual({ answer: 'stub answer' });
  }, 40_000);

  it('asks the node again once it answers, when it left the questions unanswered past the grace', async () => {
    const server = await restartableServer();
    // The node hears the questions addressed to it only when the test lets it; its pings pass at once.
    const questions = await startLaggingProxy(server.url, (subject) => subject.startsWith('tether.v1.node.'));
    onTestFinished(() => questions.close());
    const cut = await clientCutOff(server.url, {}, questions.url);
    const { qa, client } = cut;
    stubbed.stub().hold();
    // Far longer than the test: only the reply the node kept can settle it in time.
    const running = qa.execute({ question: 'did you answer?' }, { timeoutMs: 600_000 });
    await cut.accepted();
    await cut.replyWhileAway();
    questions.hold();
    cut.proxy.restore();
    await waitFor(() => client.times('reconnected') === 1, { message: 'the client is back' });

    // Past the grace in which the client asks after its reconnect (not a timed assertion: the wait only lets the
    // questions of the grace go unanswered first).
    await new Promise((resolve) => setTimeout(resolve, NODE_RECONNECT_GRACE_MS + NODE_PING_TIMEOUT_MS));
    questions.release();

    expect((await running).output).toEqual({ answer: 'stub answer' });
    expect(stubbed.stub().chatRequests).toHaveLength(1);
  }, 30_000);

  it('rejects with ExecutionUnknownError, at once, when the node no longer has the reply sent while it was away', async () => {
    const server = await restartableServer();
    // The node keeps one reply: the next execution's pushes the lost one out.
    const cut = await clientCutOff(server.url, { executionReplies: { maxCount: 1 } });
    const { qa, results, client, runtime, session } = cut;
    stubbed.stub().hold();
    // Caught at once: it rejects as soon as the client is back, which may be before the test awaits it.
    const failure = qa.execute({ question: 'did you answer?' }, { timeoutMs: 600_000 }).catch((e: unknown) => e);
    await cut.accepted();
    await cut.replyWhileAway();

    const other = await connect({ servers: server.url, reconnect });
    onTestFinished(() => other.close());
    const next = await (await other.session(session.sessionId, { create: false })).module('qa');
    await next.execute({ question: 'and you?' });
    cut.proxy.restore();
    await waitFor(() => client.times('reconnected') === 1, { message: 'the client is back' });

    const error = await failure;
    expect(error).toBeInstanceOf(ExecutionUnknownError);
    expect(error).toMatchObject({
      code: 'execution_unknown',
      nodeId: runtime.nodeId,
      sessionId: session.sessionId,
      moduleId: 'qa',
      executionId: (results[0] as { result: { executionId: string } }).result.executionId,
    });
  }, 30_000);
});

/**
 * A node and a client of its module `qa` that goes through a proxy, so the client alone can be cut off while the
 * node and the server carry on (the node reaches the server through `nodeUrl`, when given); `results`: the module's `module.result` events, as a subscriber on the server sees
 * them.
 */
async function clientCutOff(url: string, nats: Partial<NatsNodeOptions> = {}, nodeUrl = url) {
  const proxy = await startTcpProxy(url);
  onTestFinished(() => proxy.close());
  const setup = await nodeAndModule(nodeUrl, proxy.url, nats);
  const { client, session, runtime } = setup;
  const results: unknown[] = [];
  let pinged = false;
  const watcher = await connectNats({ servers: url });
  onTestFinished(() => watcher.close());
  watcher.subscribe(`tether.v1.events.${session.sessionId}.module.qa`, {
    callback: (_error, msg) => {
      const event = msg.json<{ type: string }>();
      if (event.type === 'module.result') results.push(event);
    },
  });
  // The client pings the node that took its execution only once it has that node's acceptance notice.
  watcher.subscribe(`$SRV.PING.tether.${runtime.nodeId}`, { callback: () => (pinged = true) });
  await watcher.flush();
  return {
    ...setup,
    proxy,
    results,
    /** Resolves once the execution is at the provider and the client knows the node that took it. */
    async accepted() {
      await waitFor(() => stubbed.stub().chatRequests.length === 1, { message: 'the execution at the provider' });
      await waitFor(() => pinged, { message: 'the client watches the node', timeout: 10_000 });
    },
    /** Cuts the client off, lets the held execution answer, and resolves once the node has replied. */
    async replyWhileAway() {
      proxy.cut();
      await waitFor(() => client.times('disconnected') === 1, { message: 'the client cut off' });
      stubbed.stub().release();
      await waitFor(() => results.length === 1, { message: 'the node replies while the client is away' });
    },
  };
}

/**
 * {@link clientCutOff} whose client gets the messages to its inboxes through a proxy that can hold them (`inboxes`):
 * held while the test cuts the client off, an acceptance notice and a reply are lost with its connection.
 */
async function inboxesHeldCutOff(url: string) {
  const inboxes = await startLaggingProxy(url, (subject) => subject.startsWith('_INBOX.'));
  onTestFinished(() => inboxes.close());
  return { ...(await clientCutOff(inboxes.url, {}, url)), inboxes };
}

/** `result` is the very execution that ran while the client was away (its event among `results`), not another run. */
function expectTheRunWhileAway(result: ExecutionResult, results: unknown[]): void {
  expect(result.output).toEqual({ answer: 'stub answer' });
  expect(stubbed.stub().chatRequests).toHaveLength(1);
  expect(result.executionId).toBe((results[0] as { result: { executionId: string } }).result.executionId);
}
