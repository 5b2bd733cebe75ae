import { describe, expect, it, onTestFinished } from 'vitest';
import { CallTimeoutError } from '../../src/index.js';
import { startLaggingProxy } from '../support/lagging-proxy.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);
const enc = new TextEncoder();

/** What `call` rejected with (the test fails if it resolved). */
async function failureOf(call: Promise<unknown>): Promise<CallTimeoutError> {
  const failure = await call.then(
    () => expect.fail('expected a call_timeout'),
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(CallTimeoutError);
  return failure as CallTimeoutError;
}

describe('a call_timeout says what the request did, when it may have written', () => {
  it("says the outcome of a write is unknown when the client's own timeout runs out, and nothing for a read", async () => {
    // A node that takes every request and never answers, as one whose late notice was lost with a server under it.
    const silent = nc().subscribe('tether.v1.session.s.>', {
      callback: (_error, msg) => {
        if (msg.subject.endsWith('.open')) msg.respond(enc.encode(JSON.stringify({ result: {}, revision: 0 })));
      },
    });
    onTestFinished(() => silent.unsubscribe());
    const session = await (await fx().client({ timeoutMs: 300 })).session('s');

    const write = await failureOf(session.setVariable('x', 1));
    expect(write.details).toMatchObject({ target: 'tether.v1.session.s.var.set', outcome: 'unknown' });
    expect(write.message).toBe(
      "call to 'tether.v1.session.s.var.set' timed out after 300 ms; whether it took effect is unknown",
    );
    const read = await failureOf(session.getVariable('x'));
    expect(read.details.outcome).toBeUndefined();
    expect(read.message).toBe("call to 'tether.v1.session.s.var.get' timed out after 300 ms");
    // The module reads too: listing the modules and describing one change nothing.
    const list = await failureOf(session.modules());
    expect(list.details).toMatchObject({ target: 'tether.v1.session.s.module.list' });
    expect(list.details.outcome).toBeUndefined();
    const described = await failureOf(session.module('m'));
    expect(described.details).toMatchObject({ target: 'tether.v1.session.s.module.m.describe' });
    expect(described.details.outcome).toBeUndefined();
  });

  it('answers a write its session could not finish in time with its outcome unknown, and the write lands', async () => {
    const buckets = fx().buckets();
    // The node's JetStream acknowledgements come back on its inbox: held, its session's commit waits.
    const proxy = await startLaggingProxy(fx().server.url, (subject) => subject.startsWith('_INBOX.'));
    onTestFinished(() => proxy.close());
    await fx().node(buckets, { servers: proxy.url, callTimeoutMs: 300, nats: { unavailableRetryMs: 200 } });
    const session = await (await fx().client()).session('held');
    await session.defineVariable('x', 'integer', 1);

    proxy.hold();
    const failure = await failureOf(session.setVariable('x', 2));
    expect(failure.details.outcome).toBe('unknown');
    expect(failure.message).toMatch(/timed out after \d+ ms; whether it took effect is unknown$/);
    proxy.release();
    // Unknown, not refused: the bucket has the write.
    const kv = await nc().jetstream().views.kv(buckets.variablesBucket);
    await waitFor(async () => ((await kv.get('held.x'))?.json<{ value: number }>().value ?? 0) === 2, {
      message: 'the write in the bucket',
    });
  });
});
