/**
 * The call/reply protocol between the runtime and any machine, as in GenServer.call: `runtime.call(target,
 * event)` delivers the event with a `callId` added, and the machine answers by emitting a `tether.reply` event
 * carrying the same `callId`. Replies are plain data, so a machine stays pure and inspection tools see them.
 *
 * Unlike Elixir's `GenServer.reply/2`, only the process called can answer: a reply with the `callId` emitted by any
 * other process is dropped (the call then times out). And XState hands emitted events out once the transition is
 * over, so a reply is a `{:reply, ...}` return, not a `GenServer.reply` made before a raise: a transition that
 * replies and then crashes gives the caller `ProcessExitedError`, not the reply.
 * @module
 */
import {
  emit,
  type ActionArgs,
  type ActionFunction,
  type EventObject,
  type MachineContext,
  type ParameterizedObject,
} from 'xstate';
import { errorToJSON, type SerializedError } from '../src/errors.js';

/** The emitted event type the runtime listens for. */
export const REPLY = 'tether.reply';

/** What a call resolves (`ok`) or rejects with (the error's wire form). */
export type ReplyResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

/** The event a machine emits to answer a call. */
export interface ReplyEvent {
  readonly type: typeof REPLY;
  readonly callId: string;
  readonly result: ReplyResult;
}

/** The field `call` adds to the event it delivers; absent on a `cast`. */
export interface CallEnvelope {
  readonly callId?: string;
}

/** Builds the reply event for a successful call. */
export function okReply(callId: string, value: unknown): ReplyEvent {
  return { type: REPLY, callId, result: { ok: true, value } };
}

/** Builds the reply event for a failed call. */
export function errorReply(callId: string, error: SerializedError): ReplyEvent {
  return { type: REPLY, callId, result: { ok: false, error } };
}

/** The arguments a reply expression gets: the same `{ context, event, self, system }` every XState action gets. */
export type ReplyArgs<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TEvent extends EventObject,
> = ActionArgs<TContext, TExpressionEvent, TEvent>;

/** The `callId` of the event being handled, or `''` for a cast (the runtime matches no call to it and drops it). */
function callIdOf(event: EventObject): string {
  const { callId } = event as CallEnvelope;
  return typeof callId === 'string' ? callId : '';
}

/**
 * An action that answers the call being handled with a value, built on XState's `emit` so the machine stays
 * pure. Use it in `setup({ actions })` (then list {@link ReplyEvent} in `types.emitted`) or inline.
 * @example
 * on: { get: { actions: reply(({ context }) => context.count) } }
 */
export function reply<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
>(
  valueOf: (args: ReplyArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => unknown,
): ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, ReplyEvent> {
  return emit((args: ReplyArgs<TContext, TExpressionEvent, TEvent>, params: TParams) =>
    okReply(callIdOf(args.event), valueOf(args, params)),
  );
}

/**
 * An action that fails the call being handled; the caller's promise rejects with the typed error rebuilt
 * from its wire form. Pass a Tether error (or any thrown value, which becomes `internal_error`).
 * @example
 * on: { set: { guard: 'locked', actions: replyError(({ context }) => new VariableLockedError('t', context.owner, undefined)) } }
 */
export function replyError<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
>(
  errorOf: (args: ReplyArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => unknown,
): ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, ReplyEvent> {
  return emit((args: ReplyArgs<TContext, TExpressionEvent, TEvent>, params: TParams) =>
    errorReply(callIdOf(args.event), errorToJSON(errorOf(args, params))),
  );
}
