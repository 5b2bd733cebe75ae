import { describe, expect, it } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { assign, emit, setup } from 'xstate';
import { BridgeError, InternalError, VariableLockedError } from '../../src/errors.js';
import { REPLY, reply, replyError, type CallEnvelope, type ReplyEvent } from '../../machines/protocol.js';

const createRuntime = useProcessRuntimes();

/** Uses the helpers inline in `setup().createMachine()` with `types.emitted` declared, and with params. */
const lockMachine = setup({
  types: {
    context: {} as { owner: string; value: number },
    events: {} as CallEnvelope & ({ type: 'read' } | { type: 'write'; value: number; by: string } | { type: 'boom' }),
    emitted: {} as ReplyEvent,
  },
  actions: {
    answerWith: reply((_, params: { extra: number }) => params.extra),
  },
}).createMachine({
  context: { owner: 'alice', value: 1 },
  on: {
    read: { actions: reply(({ context }) => context.value) },
    write: [
      {
        guard: ({ context, event }) => event.by === context.owner,
        actions: [
          assign({ value: ({ event }) => event.value }),
          { type: 'answerWith', params: ({ event }) => ({ extra: event.value * 10 }) },
        ],
      },
      { actions: replyError(({ context, event }) => new VariableLockedError('value', context.owner, event.by)) },
    ],
    boom: { actions: replyError(() => new Error('plain failure')) },
  },
});

describe('reply', () => {
  it('answers a call with the value the expression computes, params included', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(lockMachine);
    await expect(runtime.call(ref, { type: 'read' })).resolves.toBe(1);
    await expect(runtime.call(ref, { type: 'write', value: 7, by: 'alice' })).resolves.toBe(70);
    await expect(runtime.call(ref, { type: 'read' })).resolves.toBe(7);
  });

  it('emits a tether.reply event carrying the callId of the event it answers', () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(lockMachine);
    const emitted: ReplyEvent[] = [];
    ref.actor.on(REPLY, (event) => emitted.push(event));
    ref.actor.send({ type: 'read', callId: 'c-1' });
    expect(emitted).toEqual([{ type: REPLY, callId: 'c-1', result: { ok: true, value: 1 } }]);
  });

  it('emits an empty callId for a cast, which the runtime matches to no call', () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(lockMachine);
    const emitted: ReplyEvent[] = [];
    ref.actor.on(REPLY, (event) => emitted.push(event));
    runtime.cast(ref, { type: 'read' });
    expect(emitted.map((event) => event.callId)).toEqual(['']);
    expect(ref.alive).toBe(true);
  });
});

describe('replyError', () => {
  it('rejects the call with the typed error, rebuilt on the caller side', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(lockMachine);
    const error = await runtime.call(ref, { type: 'write', value: 2, by: 'bob' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VariableLockedError);
    expect(error).toMatchObject({ variable: 'value', lockedBy: 'alice', requestedBy: 'bob' });
  });

  it('turns a plain Error into internal_error', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(lockMachine);
    const error = await runtime.call(ref, { type: 'boom' }).catch((e: unknown) => e);
    // errorFromJSON has no factory for internal_error, so it comes back as a BridgeError keeping the code.
    expect(error).toBeInstanceOf(BridgeError);
    expect(error).toMatchObject({ code: 'internal_error', message: 'plain failure' });
  });
});

describe('a reply built by hand', () => {
  /** A machine answering `ask` with `{ ok: false, error }`, emitted directly rather than through `replyError`. */
  function replyingWith(error: unknown) {
    return setup({ types: { events: {} as CallEnvelope & { type: 'ask' } } }).createMachine({
      on: {
        ask: {
          actions: emit(
            ({ event }) => ({ type: REPLY, callId: event.callId ?? '', result: { ok: false, error } }) as never,
          ),
        },
      },
    });
  }

  it('rejects the call with InternalError naming the process when its error is not a serialized error', async () => {
    const runtime = createRuntime();
    for (const error of [null, new Error('plain'), 'failed', { message: 'no code' }]) {
      const ref = runtime.spawn(replyingWith(error), { name: 'server' });
      const outcome = await runtime.call(ref, { type: 'ask' }).catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(InternalError);
      expect(outcome).toMatchObject({ message: expect.stringContaining("process 'server' sent a malformed reply") });
      expect(ref.alive).toBe(true);
      await runtime.stop(ref);
    }
  });

  // Found by mutation: a truthy `ok` other than true was taken for a success.
  it('rejects the call with InternalError when its ok is neither true nor false', async () => {
    const runtime = createRuntime();
    const ref = runtime.spawn(
      setup({ types: { events: {} as CallEnvelope & { type: 'ask' } } }).createMachine({
        on: {
          ask: {
            actions: emit(
              ({ event }) => ({ type: REPLY, callId: event.callId ?? '', result: { ok: 'yes', value: 1 } }) as never,
            ),
          },
        },
      }),
      { name: 'server' },
    );
    const outcome = await runtime.call(ref, { type: 'ask' }).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(InternalError);
    expect(outcome).toMatchObject({ message: expect.stringContaining("process 'server' sent a malformed reply") });
  });

  it('keeps a code that is also the name of an Object method as an unknown code', async () => {
    const runtime = createRuntime();
    for (const code of ['toString', 'constructor', '__proto__']) {
      const ref = runtime.spawn(replyingWith({ code, message: 'odd' }));
      const outcome = await runtime.call(ref, { type: 'ask' }).catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(BridgeError);
      expect(outcome).toMatchObject({ code, message: 'odd' });
    }
  });
});
