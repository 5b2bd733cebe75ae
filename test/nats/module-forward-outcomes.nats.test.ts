/**
 * What a relaying node tells the caller of an execution it passed on, or could not, and that never came back: not
 * sent (`outcome: 'not_applied'`, it did not run) or sent and unanswered (`outcome: 'unknown'`, it may have run).
 */
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { CallTimeoutError, NatsConnectionError } from '../../src/index.js';
import { FORWARD_GRACE_MS, createModuleForward } from '../../src/nats/module-forward.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { manualLink } from '../support/manual-link.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('a relaying node whose connection is down when it passes an execution on', () => {
  it('holds it and, still down at the end of the wait, fails it as not sent: it did not run', async () => {
    let reached = 0;
    // The owner's forward subject: anything that reached it would be counted.
    const owner = nc().subscribe('tether.v1.forward.s1.module.qa.execute', { callback: () => (reached += 1) });
    await nc().flush();
    // The relaying node's connection is down, and stays so.
    const { link, drop } = manualLink();
    drop();
    const forward = createModuleForward(nc(), createSubjects(), link);

    const error = await forward
      .execute('s1', 'qa', { inputs: { question: 'q' }, executionId: 'x1', timeoutMs: 200 }, undefined)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({
      status: 'disconnected',
      details: { sessionId: 's1', moduleId: 'qa', outcome: 'not_applied' },
    });
    expect((error as Error).message).toMatch(
      /passing execute of module 'qa' in session 's1' on to its node: not sent; .*down .*; it did not run$/,
    );
    await nc().flush();
    expect(reached).toBe(0);
    owner.unsubscribe();
  });

  it('fails it as not sent, with status closed, when its connection closes for good before it is back', async () => {
    const relay = await connect({ servers: fx().server.url });
    const { link, drop } = manualLink();
    drop();
    const forward = createModuleForward(relay, createSubjects(), link);
    const passing = forward
      .execute('s1', 'qa', { inputs: { question: 'q' }, executionId: 'x2', timeoutMs: 60_000 }, undefined)
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await relay.close();

    const error = await passing;
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ status: 'closed', details: { outcome: 'not_applied' } });
    expect((error as Error).message).toMatch(
      /: not sent; this node's NATS connection closed before it was back; it did not run$/,
    );
  });
});

describe('an owner that takes an execution passed on and never answers', () => {
  // Found by mutation: the timeout's outcome could be dropped, which told the caller nothing ran.
  it('fails it with call_timeout after its timeout and the grace, its outcome unknown: it may have run', async () => {
    let reached = 0;
    const stalled = nc().subscribe('tether.v1.forward.s1.module.qa.execute', { callback: () => (reached += 1) });
    await nc().flush();
    const forward = createModuleForward(nc(), createSubjects());

    const error = await forward
      .execute('s1', 'qa', { inputs: { question: 'q' }, executionId: 'x3', timeoutMs: 100 }, undefined)
      .catch((e: unknown) => e);

    expect(reached).toBe(1);
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({
      code: 'call_timeout',
      details: { timeoutMs: 100 + FORWARD_GRACE_MS, outcome: 'unknown' },
    });
    stalled.unsubscribe();
  });
});
