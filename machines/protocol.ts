/**
 * The call/reply protocol between the runtime and any machine, as in GenServer.call: `runtime.call(target,
 * event)` delivers the event with a `callId` added, and the machine answers by emitting a `tether.reply` event
 * carrying the same `callId`. Replies are plain data, so a machine stays pure and inspection tools see them.
 * @module
 */
import type { SerializedError } from '../src/errors.js';

/** The emitted event type the runtime listens for. */
export const REPLY = 'tether.reply';

/** What a call resolves (`ok`) or rejects with (the error's wire form). */
export type ReplyResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

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
