/**
 * The watch of the modules bucket (`ModuleSpecs.watch`, src/nats/module-specs.ts) reopening after an outage while
 * JetStream does not answer for that bucket: it is told slow, as the variables bucket's watches are. The bucket is
 * real; the consumer's creation is made to fail at once, and the minute of attempts runs on fake timers.
 */
import { ErrorCode, NatsError, type KV } from 'nats';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { SLOW_REOPEN_ATTEMPTS } from '../../src/nats/kv-watch-consumer.js';
import { openModuleSpecs } from '../../src/nats/module-specs.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

describe('the watch of the modules bucket', () => {
  // Found in review: no `reopenSlow` was given to this watch, so a node whose modules stream alone could not reopen
  // retried silently, where its variables bucket's watch prints "cannot reopen yet; still trying".
  it('is told slow to reopen after about a minute, naming the bucket, and goes on trying', async () => {
    const { modulesBucket } = fx().buckets();
    const slow: unknown[] = [];
    const specs = await openModuleSpecs(nc(), { bucket: modulesBucket, onWatchSlow: (error) => slow.push(error) });
    onTestFinished(() => specs.close());
    const ends: unknown[] = [];
    const watch = specs.watch(
      () => {},
      (error) => ends.push(error),
    );
    onTestFinished(() => watch.stop());
    await watch.initialized;

    // Every bucket's watches are nats.js KV objects of one class: only this bucket's consumer fails to open.
    const kvClass = Object.getPrototypeOf(await nc().jetstream().views.kv(modulesBucket)) as KV;
    const opened = kvClass.watch;
    let attempts = 0;
    const failing = vi.spyOn(kvClass, 'watch').mockImplementation(function (this: KV & { bucket: string }, ...args) {
      if (this.bucket !== modulesBucket) return opened.apply(this, args);
      attempts += 1;
      return Promise.reject(NatsError.errorForCode(ErrorCode.NoResponders));
    });
    onTestFinished(() => failing.mockRestore());
    // Only the waits of the watch's attempts: the connection's own timers stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    onTestFinished(() => void vi.useRealTimers());

    watch.suspend();
    void watch.resume();
    for (let second = 0; second < 120 && attempts <= SLOW_REOPEN_ATTEMPTS + 5; second++)
      await vi.advanceTimersByTimeAsync(1000);

    expect(attempts).toBeGreaterThan(SLOW_REOPEN_ATTEMPTS);
    expect(slow).toHaveLength(1);
    expect(slow[0]).toBeInstanceOf(StoreUnavailableError);
    expect(slow[0]).toMatchObject({
      details: { bucket: modulesBucket, operation: 'watch', stillTrying: true },
    });
    expect((slow[0] as Error).message).toContain('a reopen of the watch of every key is still trying');
    expect(ends).toEqual([]);
    // Stopped before its waits go back to real timers, which would drop them (and the watch with them).
    watch.stop();
  }, 30_000);
});
