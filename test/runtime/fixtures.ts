/**
 * Machines the runtime tests spawn. Each is a plain `setup().createMachine()` using the protocol's `reply`
 * helpers, so the tests also prove those helpers typecheck in a real machine.
 * @module
 */
import { assign, createMachine, enqueueActions, fromCallback, setup } from 'xstate';
import { ValidationError } from '../../src/errors.js';
import { okReply, reply, replyError, type CallEnvelope, type ReplyEvent } from '../../machines/protocol.js';
import type { DownNotice, ExitNotice } from '../../src/runtime/index.js';

/** Events the counter understands; `callId` is what `call` adds. */
export type CounterEvent = CallEnvelope &
  (
    | { type: 'increment'; by?: number }
    | { type: 'get' }
    | { type: 'invalid' }
    | { type: 'crash' }
    | { type: 'finish' }
    | { type: 'hold' }
    | { type: 'release' }
    | DownNotice
    | ExitNotice
  );

/**
 * A counter process: answers calls, crashes or finishes on request, and records the DOWN notices and (spawned with
 * `trapExit`) the EXIT notices it receives.
 */
export const counterMachine = setup({
  types: {
    context: {} as { count: number; held: string[]; downs: DownNotice[]; exits: ExitNotice[] },
    events: {} as CounterEvent,
    input: {} as { start?: number } | undefined,
    emitted: {} as ReplyEvent,
  },
  actions: {
    answerCount: reply(({ context }) => context.count),
    rejectInvalid: replyError(() => new ValidationError('counter refuses', { variable: 'count' })),
    explode: () => {
      throw new Error('boom');
    },
  },
}).createMachine({
  id: 'counter',
  context: ({ input }) => ({ count: input?.start ?? 0, held: [], downs: [], exits: [] }),
  initial: 'running',
  states: {
    running: {
      on: {
        increment: {
          actions: [assign({ count: ({ context, event }) => context.count + (event.by ?? 1) }), 'answerCount'],
        },
        get: { actions: 'answerCount' },
        invalid: { actions: 'rejectInvalid' },
        crash: { actions: 'explode' },
        finish: { target: 'finished' },
        // Keeps the call unanswered until `release`, which answers every held call in order: the way to
        // produce a reply that arrives after its caller timed out.
        hold: { actions: assign({ held: ({ context, event }) => [...context.held, event.callId ?? ''] }) },
        release: {
          actions: [
            enqueueActions(({ context, enqueue }) => {
              context.held.forEach((callId, index) => enqueue.emit(okReply(callId, `held #${index}`)));
            }),
            assign({ held: [] }),
          ],
        },
        DOWN: { actions: assign({ downs: ({ context, event }) => [...context.downs, event] }) },
        EXIT: { actions: assign({ exits: ({ context, event }) => [...context.exits, event] }) },
      },
    },
    finished: { type: 'final' },
  },
});

/** A plain machine (no `setup`) answering with `reply`: the helper must typecheck here too. */
export const echoMachine = createMachine({
  types: {} as { context: { last: string }; events: CallEnvelope & { type: 'echo'; text: string } },
  context: { last: '' },
  on: {
    echo: { actions: [assign({ last: ({ event }) => event.text }), reply(({ event }) => event.text.toUpperCase())] },
  },
});

/** A machine whose initial entry action throws: it crashes while starting. */
export const crashOnStartMachine = createMachine({
  entry: () => {
    throw new Error('cannot start');
  },
});

/** A machine whose action for `boom` throws: it crashes in a transition, which XState inspects no snapshot for. */
export const crashOnBoomMachine = createMachine({
  on: {
    boom: {
      actions: () => {
        throw new Error('boom');
      },
    },
  },
});

/** Logic with no behaviour that lives until stopped; the cheapest process for supervision tests. */
export const idleLogic = fromCallback(() => () => {});
