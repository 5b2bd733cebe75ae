import { afterEach, describe, expect, it, vi } from 'vitest';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { rawReply } from '../support/raw-request.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A raw request, as any NATS client would send it; the reply's body and error headers. */
const raw = (subject: string, payload: string) => rawReply(nc(), subject, payload);

afterEach(() => {
  vi.useRealTimers();
});

const spec = { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 't' } };

/**
 * Opens session `early` with module `qa` and cancels execution `early-1`, which nobody runs yet: no node can cancel
 * it now, so every node remembers the id instead.
 */
async function cancelBeforeItsExecution(): Promise<void> {
  await raw('tether.v1.session.early.open', '');
  await raw(
    'tether.v1.session.early.module.qa.create',
    JSON.stringify({ spec: { type: 'Predict', signature: spec.signature } }),
  );
  expect(
    (await raw('tether.v1.session.early.module.qa.cancel', '{"executionId":"early-1","reason":"too late"}')).body
      .result,
  ).toEqual({ cancelled: false });
}

describe('a cancel that comes before its execution', () => {
  it('refuses an execution whose cancel overtook it, on whichever node it lands', async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    await fx().runtime(buckets);
    await cancelBeforeItsExecution();
    const refused = await raw(
      'tether.v1.session.early.module.qa.execute',
      '{"inputs":{"question":"x"},"executionId":"early-1"}',
    );
    expect(refused.body.error).toMatchObject({
      code: 'execution_aborted',
      details: {
        moduleId: 'qa',
        executionId: 'early-1',
        reason: 'cancelled before it started',
        outcome: 'not_applied',
      },
    });
    const other = await raw(
      'tether.v1.session.early.module.qa.execute',
      '{"inputs":{"question":"x"},"executionId":"early-2"}',
    );
    expect(other.body.result).toMatchObject({ executionId: 'early-2' });
  });

  it("runs an execution whose id was cancelled early in another session's or module's name", async () => {
    const buckets = fx().buckets();
    await fx().runtime(buckets);
    const create = JSON.stringify({ spec: { type: 'Predict', signature: spec.signature } });
    for (const sessionId of ['mine', 'theirs']) {
      await raw(`tether.v1.session.${sessionId}.open`, '');
      await raw(`tether.v1.session.${sessionId}.module.qa.create`, create);
    }
    // Cancels of the same id that found nothing: in another session, and for a module that does not exist.
    for (const subject of ['tether.v1.session.theirs.module.qa.cancel', 'tether.v1.session.mine.module.other.cancel'])
      expect((await raw(subject, '{"executionId":"shared-1"}')).body.result).toEqual({ cancelled: false });
    const executed = await raw(
      'tether.v1.session.mine.module.qa.execute',
      '{"inputs":{"question":"x"},"executionId":"shared-1"}',
    );
    expect(executed.body.result).toMatchObject({ executionId: 'shared-1', moduleId: 'qa' });
  });

  // Found by a review: the cancel was remembered on the wall clock, so NTP stepping it forward let the execute run.
  it('still refuses the execution a moment later when NTP stepped the clock forward in between', async () => {
    // Only the wall clock is faked, and it runs at real speed: timers, sockets and the monotonic clock are real.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    await fx().runtime(fx().buckets());
    await cancelBeforeItsExecution();

    // The node's clock had drifted behind: NTP steps it forward two minutes, past the minute a cancel is remembered.
    vi.setSystemTime(Date.now() + 120_000);

    const refused = await raw(
      'tether.v1.session.early.module.qa.execute',
      '{"inputs":{"question":"x"},"executionId":"early-1"}',
    );
    expect(refused.body.error).toMatchObject({
      code: 'execution_aborted',
      details: { executionId: 'early-1', reason: 'cancelled before it started', outcome: 'not_applied' },
    });
  });
});
