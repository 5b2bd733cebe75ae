import { headers, type Msg } from 'nats';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CallTimeoutError, NodeLostError, connect, type RemoteSession } from '../../src/index.js';
import { encodeAcceptance } from '../../src/nats/wire.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { isNotice, rawRequest } from '../support/raw-request.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

describe('a node answering slowly tells a caller that asked (Tether-Accept-Notice) that it is still at it', () => {
  /**
   * A node behind a proxy holding its bucket's messages, and a write it has not heard of: a request that asks for
   * that write's revision waits for it (at most 2 s), as a request riding through an election waits.
   */
  async function laggingNode(options: { callTimeoutMs?: number } = {}) {
    const buckets = fx().buckets();
    const proxy = await startLaggingProxy(fx().server.url, (subject) =>
      subject.startsWith(`$KV.${buckets.variablesBucket}.`),
    );
    onTestFinished(() => proxy.close());
    const node = await fx().node(buckets, { ...options, servers: proxy.url });
    const client = await fx().client();
    const session = await client.session('slow');
    await session.defineVariable('x', 'integer', 1);
    proxy.hold();
    // A copy of the record under another session's key, which has no process on the node.
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    const held = await kv.put('elsewhere.x', (await kv.get('slow.x'))!.value);
    return { node, proxy, held };
  }

  const revisionHeader = (revision: number): [string, string] => ['Tether-Min-Revision', String(revision)];

  function ask(revision: number, withNotice: boolean): Msg[] {
    const h = headers();
    h.set(...revisionHeader(revision));
    if (withNotice) h.set('Tether-Accept-Notice', '1');
    const inbox = `_INBOX.late.${Math.random().toString(36).slice(2)}`;
    const received: Msg[] = [];
    const subscription = nc().subscribe(inbox, { callback: (_error, msg) => received.push(msg) });
    onTestFinished(() => subscription.unsubscribe());
    nc().publish('tether.v1.session.slow.var.get', enc.encode(JSON.stringify({ name: 'x' })), {
      reply: inbox,
      headers: h,
    });
    return received;
  }

  it('sends one late notice naming itself and how long it may still take, then the reply', async () => {
    const { node, proxy, held } = await laggingNode();
    const received = ask(held, true);
    await waitFor(() => received.length === 1, { message: 'the late notice' });
    const [notice] = received;
    expect(isNotice(notice!)).toBe(true);
    expect(notice!.headers?.get('Tether-Accepted-By')).toBe(node.serviceId);
    expect(notice!.json()).toEqual({ acceptedBy: node.serviceId });
    // The node's bound from the notice on: the revision wait left (under 2 s, and 8 s more while the node's watch is
    // down) and a write's timeout (5 + 15 + 7 s).
    const answerWithin = Number(notice!.headers?.get('Tether-Answer-Within'));
    expect(answerWithin).toBeGreaterThan(35_000);
    expect(answerWithin).toBeLessThanOrEqual(37_000);

    proxy.release();
    await waitFor(() => received.length === 2, { message: 'the reply' });
    expect(isNotice(received[1]!)).toBe(false);
    expect(received[1]!.json()).toMatchObject({ result: { value: 1 } });
  });

  it('states a whole number of milliseconds when its calls wait for ever: the longest a client can wait', async () => {
    const { proxy, held } = await laggingNode({ callTimeoutMs: Infinity });
    const received = ask(held, true);
    await waitFor(() => received.length === 1, { message: 'the late notice' });
    const answerWithin = received[0]!.headers?.get('Tether-Answer-Within');
    // "Infinity" is no promise a client reads: it gave up at its own timeout while the node was still at it.
    expect(answerWithin).toMatch(/^\d+$/);
    expect(Number(answerWithin)).toBeGreaterThanOrEqual(2 ** 31 - 1);
    proxy.release();
    await waitFor(() => received.length === 2, { message: 'the reply' });
  });

  it('sends no notice to a request that did not ask, nor to one answered at once', async () => {
    const { proxy, held } = await laggingNode();
    const unasked = ask(held, false);
    // Held past the notice's time, then answered.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    proxy.release();
    await waitFor(() => unasked.length === 1, { message: 'the reply' });
    const prompt = rawRequest(nc(), 'tether.v1.session.slow.var.get', { name: 'x' }, true);
    await waitFor(() => prompt.length === 1, { message: 'the prompt reply' });
    // A notice owed would have gone by now; the round trip makes sure it would have reached us.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await nc().flush();
    expect([...unasked, ...prompt].map(isNotice)).toEqual([false, false]);
  });
});

describe('the remote client, told by a late notice that the node is still at it', () => {
  /** A scripted node on `tether.v1.session.s.>`: `open` is answered at once, any other request as `serve` says. */
  function scriptedNode(serve: (msg: Msg) => void): void {
    const subscription = nc().subscribe('tether.v1.session.s.>', {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) msg.respond(enc.encode(JSON.stringify({ result: {}, revision: 0 })));
        else serve(msg);
      },
    });
    onTestFinished(() => subscription.unsubscribe());
  }

  /**
   * Publishes a late notice for `msg` from `nodeId`, which will answer within `answerWithinMs`, if `msg` asked for
   * one (as a node does).
   */
  function lateNotice(msg: Msg, nodeId: string, answerWithinMs: number): void {
    if (!msg.headers?.has('Tether-Accept-Notice')) return;
    const h = headers();
    h.set('Tether-Accepted-By', nodeId);
    h.set('Tether-Answer-Within', String(answerWithinMs));
    nc().publish(msg.reply!, encodeAcceptance(nodeId), { headers: h });
  }

  /** Answers `$SRV.PING.tether.<nodeId>` until the returned function is called. */
  function answerPings(nodeId: string): () => void {
    const subscription = nc().subscribe(`$SRV.PING.tether.${nodeId}`, {
      callback: (_error, msg) => msg.respond(enc.encode(JSON.stringify({ id: nodeId }))),
    });
    onTestFinished(() => subscription.unsubscribe());
    return () => subscription.unsubscribe();
  }

  /** A session of a new client on the scripted node (`timeoutMs` as given, the default otherwise). */
  async function clientSession(timeoutMs?: number) {
    const client = await connect({
      servers: fx().server.url,
      onError: () => {},
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    onTestFinished(() => client.close());
    return client.session('s');
  }

  /** What `call` fails with when the node sends its late notice at once and then stops answering pings. */
  async function failureAfterNotice(call: (session: RemoteSession) => Promise<unknown>): Promise<unknown> {
    const stopPings = answerPings('dying_node');
    scriptedNode((msg) => {
      lateNotice(msg, 'dying_node', 60_000);
      stopPings();
    });
    return call(await clientSession()).then(
      () => undefined,
      (failure: unknown) => failure,
    );
  }

  /** A `get` reply, as a node sends it. */
  const reply = (value: number) =>
    enc.encode(JSON.stringify({ result: { type: 'integer', value, version: 1 }, revision: 0 }));

  it('waits past its default timeout (5 s) for as long as the node said, and gets the reply', async () => {
    answerPings('slow_node');
    scriptedNode((msg) => {
      lateNotice(msg, 'slow_node', 10_000);
      setTimeout(() => msg.respond(reply(42)), 6000);
    });
    const session = await clientSession();
    expect(await session.getVariable('x')).toBe(42);
  }, 15_000);

  it('never waits less than its timeout for a node that says it will answer sooner', async () => {
    answerPings('slow_node');
    scriptedNode((msg) => {
      // Due at once, and 2 s to spare: taken as the deadline, the wait would end a second and a half early.
      lateNotice(msg, 'slow_node', 0);
      setTimeout(() => msg.respond(reply(42)), 3500);
    });
    const session = await clientSession();
    expect(await session.getVariable('x')).toBe(42);
  });

  it('keeps a timeout it was given to the letter', async () => {
    answerPings('slow_node');
    scriptedNode((msg) => {
      lateNotice(msg, 'slow_node', 10_000);
      setTimeout(() => msg.respond(reply(42)), 3000);
    });
    const session = await clientSession(1500);
    await expect(session.getVariable('x')).rejects.toBeInstanceOf(CallTimeoutError);
  });

  it('fails with call_timeout naming the longer wait when the node it waited for never answers', async () => {
    answerPings('slow_node');
    // Told at once that the answer comes within 4 s: with 2 s to spare, 6 s in all, more than the 5 s timeout.
    scriptedNode((msg) => lateNotice(msg, 'slow_node', 4000));
    const session = await clientSession();
    const error = await session.getVariable('x').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(CallTimeoutError);
    const waited = (error as CallTimeoutError).details.timeoutMs as number;
    // Moved from 5 s to the notice's 4 s and 2 s to spare, counted from when the notice came (later on a busy machine).
    expect(waited).toBeGreaterThanOrEqual(5900);
    expect(waited).toBeLessThan(9000);
    expect((error as Error).message).toContain(`${waited} ms`);
  }, 15_000);

  it('says a read changed nothing when its node stops answering pings after its notice', async () => {
    const error = await failureAfterNotice((session) => session.getVariable('x'));
    expect(error).toBeInstanceOf(NodeLostError);
    expect((error as NodeLostError).details).toEqual({
      sessionId: 's',
      nodeId: 'dying_node',
      subject: 'tether.v1.session.s.var.get',
      read: true,
    });
    expect((error as Error).message).toBe(
      "node 'dying_node' that took request 'tether.v1.session.s.var.get' of session 's' stopped answering; " +
        'a read, it changed nothing',
    );
  });

  it('rejects with node_lost, its outcome unknown, when the node stops answering pings after its notice', async () => {
    const error = await failureAfterNotice((session) => session.setVariable('x', 2));
    expect(error).toBeInstanceOf(NodeLostError);
    expect(error).toMatchObject({
      code: 'node_lost',
      nodeId: 'dying_node',
      sessionId: 's',
      moduleId: undefined,
      details: { subject: 'tether.v1.session.s.var.set', outcome: 'unknown' },
    });
    expect((error as Error).message).toBe(
      "node 'dying_node' that took request 'tether.v1.session.s.var.set' of session 's' stopped answering; " +
        'whether it was applied is unknown',
    );
  });
});
