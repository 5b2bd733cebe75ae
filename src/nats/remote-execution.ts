/**
 * The terms of one execution a remote module handle sends: its options, how long its reply is waited for, the errors
 * its node-watching request fails with, and why it is cancelled, and how its timeout is named, when it fails.
 * @module
 */
import {
  CallTimeoutError,
  ExecutionAbortedError,
  ExecutionUnknownError,
  NatsConnectionError,
  NodeLostError,
} from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { printable } from '../printable.js';
import type { WatchOptions } from './remote-transport.js';

/** Options of `RemoteModuleHandle.execute`. */
export interface RemoteExecuteOptions {
  /**
   * How long the node may take, queue time included; the client waits a little longer for its answer. Taken and
   * refused as an embedded handle's: over 0 and at most 2^31-1 ms, a fraction rounded up to a whole millisecond (the
   * wire takes integers), or `Infinity` for no limit, which is sent as the longest wait the wire takes, 2^31-1 ms
   * (about 24.8 days). Without it the node's own `executionTimeoutMs` applies, and the client waits for its answer as
   * long as for 120_000 ms, the nodes' default: give one for a node that allows more.
   * @default the node's `executionTimeoutMs` (120_000 unless the node sets another)
   */
  readonly timeoutMs?: number;
  /** Aborting rejects at once with `ExecutionAbortedError` and asks the node running the execution to cancel it. */
  readonly signal?: AbortSignal;
}

/**
 * How long a remote execution without `timeoutMs` is waited for (and a short grace): the embedded runtime's default
 * execution timeout, which a node applies unless it sets another.
 */
export const DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS = 120_000;

/** How the client's `onError` is told of a cancel that did not get out (`<this> <executionId>`). */
export const CANCEL_REPORT = 'cancelling execution';

/** How much longer than the node the client waits, so the node's own timeout error arrives rather than silence. */
const REPLY_GRACE_MS = 2_000;

/** How long the client waits for the reply of an execution the node may take `timeoutMs` over (its own when none). */
export function replyWaitMs(timeoutMs: number | undefined): number {
  return Math.min((timeoutMs ?? DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS) + REPLY_GRACE_MS, MAX_TIMEOUT_MS);
}

/** The execution `executionId` of `moduleId` in `sessionId`, as its errors name it. */
export interface ExecutionTarget {
  readonly sessionId: string;
  readonly moduleId: string;
  readonly executionId: string;
}

/**
 * The options of an execution's node-watching request: the errors it fails with when its node is lost, when `signal`
 * fires, and when its reply is lost and no node has a record of it.
 */
export function executionWatch(
  { sessionId, moduleId, executionId }: ExecutionTarget,
  signal: AbortSignal | undefined,
  incarnation: string | undefined,
): WatchOptions {
  return {
    signal,
    lost: (nodeId) => new NodeLostError(sessionId, moduleId, executionId, nodeId),
    // Worded as the node's cancel of it: the reason the caller gave, in the message and in `details.reason`.
    aborted: () =>
      new ExecutionAbortedError(moduleId, executionId, {
        cause: signal?.reason,
        details: { reason: abortReason(signal) },
      }),
    incarnation,
    recovery: {
      sessionId,
      moduleId,
      executionId,
      unknown: (nodeId) => new ExecutionUnknownError(sessionId, moduleId, executionId, nodeId),
      untaken: (nodes) =>
        new ExecutionUnknownError(sessionId, moduleId, executionId, undefined, { details: { nodes } }),
    },
  };
}

/**
 * Why an execution that failed with `error` is cancelled wherever it still runs, or `undefined` when there is
 * nothing to cancel. The client gave up (or the node did, or it looks gone): the cancel keeps it from blocking a
 * mailbox or costing a provider call for an answer nobody receives.
 */
export function cancelReason(error: unknown, signal: AbortSignal | undefined): string | undefined {
  if (signal?.aborted) return abortReason(signal);
  // Not one the node refused to start (a revision it did not reach): there is nothing to cancel, and the cancel,
  // carrying the same revision, would only wait for it too and fail in the background.
  if (error instanceof CallTimeoutError && error.details.outcome !== 'not_applied') return 'timed out';
  if (error instanceof NodeLostError) return `node ${error.nodeId} lost`;
  // No node said it had it. A node that takes it late (one that stalled) heard the censuses first and refuses it;
  // this cancel stops it where they cannot (a node whose NATS server stalled with it, or whose clock is behind).
  if (error instanceof ExecutionUnknownError) return 'no node acknowledged it in time';
  if (error instanceof NatsConnectionError && error.status === 'disconnected')
    return 'the client lost its NATS connection';
  return undefined;
}

/**
 * What an execution that failed with `error` rejects with: a timeout of the client's own wait named like every other
 * failure of an execution, so the caller can match it to the execution's events; any other error as it is.
 */
export function executionFailure(error: unknown, { sessionId, moduleId, executionId }: ExecutionTarget): unknown {
  if (error instanceof CallTimeoutError && error.details.executionId === undefined) {
    // As an embedded handle's timeout names it (naming-execution.ts), the session too.
    const details = { ...error.details, sessionId, moduleId, executionId };
    return new CallTimeoutError(error.target, error.timeoutMs, { cause: error, details });
  }
  return error;
}

/** The reason an aborted execution is cancelled with: the signal's, as the embedded handle words it. */
export function abortReason(signal: AbortSignal | undefined): string {
  return printable(signal?.reason ?? 'aborted');
}
