/**
 * Errors of a module: an unknown module type, a module not found, an execution aborted.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/** No module type is registered under that name (which a module's type variable holds, when `variable` is set). */
export class UnknownModuleError extends BridgeError {
  override readonly code = 'unknown_module';
  /** The type variable that holds the name, when the name came from one. */
  readonly variable: string | undefined;

  constructor(
    readonly moduleType: string,
    readonly available: readonly string[],
    options: BridgeErrorOptions & { variable?: string } = {},
  ) {
    const held = options.variable === undefined ? '' : ` (held by variable '${options.variable}')`;
    super(`Unknown module type '${moduleType}'${held}; available: ${available.join(', ')}`, {
      ...options,
      details: {
        moduleType,
        available,
        ...(options.variable === undefined ? {} : { variable: options.variable }),
        ...options.details,
      },
    });
    this.variable = options.variable;
  }
}

/**
 * No module with that id exists in the session: none was created, or it was stopped, or (embedded) its process
 * crashed or was killed. `session.module(id)` without a spec answers it, and so do a stopped module's handle's calls.
 * Over NATS this is the answer for a module no node can wake (its spec is not in the modules bucket). A handle whose
 * module's process exited by itself (crashed, killed) gets `NoProcError` from its calls instead: nobody stopped it.
 */
export class ModuleNotFoundError extends BridgeError {
  override readonly code = 'module_not_found';
  constructor(
    readonly sessionId: string,
    readonly moduleId: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`module '${moduleId}' not found in session '${sessionId}'`, {
      ...options,
      details: { sessionId, moduleId, ...options.details },
    });
  }
}

/** An execution was cancelled (its AbortSignal fired) before it finished; a request in flight was aborted. */
export class ExecutionAbortedError extends BridgeError {
  override readonly code = 'execution_aborted';
  constructor(
    readonly moduleId: string,
    readonly executionId: string,
    options: BridgeErrorOptions = {},
  ) {
    // A reason given (a cancel's, `timed out`) ends the message, as the module process words it.
    const reason = options.details?.reason;
    const why = typeof reason === 'string' && reason !== '' ? `: ${reason}` : '';
    super(`execution '${executionId}' of module '${moduleId}' was aborted${why}`, {
      ...options,
      details: { moduleId, executionId, ...options.details },
    });
  }
}
