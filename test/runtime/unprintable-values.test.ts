/**
 * Values `String()` cannot convert (an object without a prototype, one whose `toString` throws), handed to the
 * process runtime as a crash, a stop reason or a target: the messages built from them are built on error paths,
 * where a throw once skipped the rest of a process's exit.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { NoProcError, ProcessExitedError, ValidationError } from '../../src/errors.js';
import { assertBucketSettings } from '../../src/nats/kv-bucket-settings.js';
import { createSubjects } from '../../src/nats/subjects.js';
import { subscribeEvents } from '../../src/nats/event-subscriber.js';
import { DynamicSupervisor, Supervisor, type DownNotice } from '../../src/runtime/index.js';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { idleLogic } from './fixtures.js';

const createRuntime = useProcessRuntimes();

/** An error whose `message` getter throws. */
class MessagelessError extends Error {
  override get message(): string {
    throw new Error('no message');
  }
}

/** Values a message cannot be built from with `String()` (or, for the error, with its `message`). */
const unprintables = (): [string, unknown][] => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return [
    ['an object without a prototype', Object.create(null)],
    [
      'an object whose toString throws',
      {
        toString() {
          throw new Error('no text');
        },
      },
    ],
    ['a revoked proxy', proxy],
    ['an error whose message getter throws', new MessagelessError()],
  ];
};

/** A process that throws `thrown` when asked anything. */
const throwingLogic = (thrown: unknown) =>
  createMachine({
    on: {
      ask: {
        actions: () => {
          throw thrown;
        },
      },
    },
  });

describe('values String() cannot convert', () => {
  it.each(unprintables())(
    'as a setting (%s), are refused with ValidationError, not a TypeError',
    async (_what, value) => {
      expect(() => createRuntime().spawn(idleLogic, { hibernateAfter: value as never })).toThrow(ValidationError);
      expect(() => assertBucketSettings('b', { replicas: value as never })).toThrow(ValidationError);
      expect(() => assertBucketSettings('b', { historyDepth: value as never })).toThrow(ValidationError);
      expect(() => createSubjects(value as never)).toThrow(ValidationError);
      // Refused before connecting: nothing listens on port 1.
      await expect(
        subscribeEvents({ servers: 'nats://127.0.0.1:1', feed: value } as never, () => {}),
      ).rejects.toBeInstanceOf(ValidationError);
    },
  );

  it.each(unprintables())(
    'a crash with %s fails the waiting call, restarts the child, stops its link and tells its monitor',
    async (_what, thrown) => {
      const runtime = createRuntime();
      let starts = 0;
      await Supervisor.start(runtime, {
        children: [{ id: 'w', start: () => (starts++, { logic: throwingLogic(thrown), name: 'worker' }) }],
      });
      const partner = runtime.spawn(idleLogic);
      runtime.link('worker', partner);
      const downs: DownNotice[] = [];
      runtime.monitor('worker', (notice) => void downs.push(notice));
      const answer = runtime.call('worker', { type: 'ask' }, { timeout: 1000 });
      await expect(answer).rejects.toBeInstanceOf(ProcessExitedError);
      await expect(answer).rejects.toThrow(/crash: \[(object Object|object Error|unprintable value)\]/);
      expect(downs).toHaveLength(1);
      expect((downs[0]!.reason as { error: unknown }).error).toBe(thrown);
      expect(partner.alive).toBe(false);
      await expect.poll(() => starts).toBe(2);
      expect(runtime.whereis('worker')?.alive).toBe(true);
    },
  );

  it.each(unprintables())('a stop with %s as its shutdown reason fails the waiting call', async (_what, value) => {
    const runtime = createRuntime();
    const process = runtime.spawn(idleLogic, { name: 'p' });
    // A call the process never answers: it waits until the stop.
    const answer = runtime.call(process, { type: 'unanswered' }, { timeout: 1000 });
    const downs: DownNotice[] = [];
    runtime.monitor(process, (notice) => void downs.push(notice));
    await runtime.stop(process, { shutdown: value });
    await expect(answer).rejects.toBeInstanceOf(ProcessExitedError);
    expect(downs).toHaveLength(1);
    expect((downs[0]!.reason as { shutdown: unknown }).shutdown).toBe(value);
  });

  it.each(unprintables())('a target that is %s is a process not alive, for every method', async (_what, target) => {
    const runtime = createRuntime();
    await expect(runtime.call(target as never, { type: 'ask' })).rejects.toBeInstanceOf(NoProcError);
    const alive = runtime.spawn(idleLogic);
    expect(() => runtime.link(target as never, alive)).toThrow(NoProcError);
    const supervisor = await DynamicSupervisor.start(runtime);
    await expect(supervisor.terminateChild(target as never)).rejects.toBeInstanceOf(NoProcError);
    expect(alive.alive).toBe(true);
  });
});
