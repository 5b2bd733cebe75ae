/**
 * Errors only the supervisors raise. They follow the house rules for errors (a `BridgeError` with a stable
 * `code`, readonly context, ids in the message, `cause` kept) but live here because `src/errors.ts` is shared
 * and owned by the lead; they are meant to move there, together with factories for `errorFromJSON`.
 * @module
 */
import { BridgeError, type BridgeErrorOptions } from '../errors.js';

/** A `DynamicSupervisor` already supervises `maxChildren` children and refuses another one. */
export class MaxChildrenError extends BridgeError {
  override readonly code = 'max_children';
  constructor(
    readonly supervisor: string,
    readonly maxChildren: number,
    options: BridgeErrorOptions = {},
  ) {
    super(`supervisor '${supervisor}' already has its maximum of ${maxChildren} children`, {
      ...options,
      details: { supervisor, maxChildren, ...options.details },
    });
  }
}

/**
 * A child could not be started: its `start` threw, its name was taken, or its logic crashed while starting.
 * The original error is the `cause`.
 */
export class ChildStartError extends BridgeError {
  override readonly code = 'child_start_failed';
  constructor(
    readonly supervisor: string,
    readonly childId: string,
    options: BridgeErrorOptions = {},
  ) {
    const why = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`supervisor '${supervisor}' could not start child '${childId}'${why}`, {
      ...options,
      details: { supervisor, childId, ...options.details },
    });
  }
}
