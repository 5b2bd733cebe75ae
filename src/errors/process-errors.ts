/**
 * Errors of processes and supervisors: a call timed out, no process, a process exited, a stopped runtime, a
 * supervisor refusing or giving up.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/** What a timed-out request that may write did, when known (`details.outcome`), as its message says it. */
const TIMEOUT_FATES: Readonly<Record<string, string>> = {
  unknown: '; whether it took effect is unknown',
  not_applied: '; nothing of it was applied',
};

/** What a module's execution was doing when its wait ran out (`details.stage`), as the message says it. */
const TIMEOUT_STAGES: Readonly<Record<string, string>> = {
  queued: ' while queued behind other executions of the module',
  syncing: ' while syncing its bound variables',
  executing: " while executing (its program, and the model's answers it waits for)",
};

/**
 * A `call` got no reply within its timeout. A reply arriving later is dropped. Over NATS, `details.outcome` says what
 * a request that may write did: `unknown` when the wait ran out while the request may still be applied (the
 * client's own timeout, or a node's call to its session process), `not_applied` when a node refused to start it (a
 * revision it did not reach in time, reads too); the client's own timeout of a read has none. A module execution's
 * timeout names the execution in `details.sessionId`, `details.moduleId` and `details.executionId`, on an embedded
 * handle as on a remote one (`details.processId` too when a module process's wait ran out, wherever it ran), and what
 * the execution was doing then in `details.stage` (`queued`, `syncing` or `executing`) when the module process's own
 * wait ran out: a provider slower than the timeout shows as `executing`. A node
 * that did not apply the revision a request asked for in time (`details.minRevision`) says so: `waiting for the node
 * to apply revision 34 timed out after 2000 ms; nothing of it was applied`.
 */
export class CallTimeoutError extends BridgeError {
  override readonly code = 'call_timeout';
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
    options: BridgeErrorOptions = {},
  ) {
    const outcome = options.details?.outcome;
    const fate = typeof outcome === 'string' ? (TIMEOUT_FATES[outcome] ?? '') : '';
    const stage = options.details?.stage;
    const where = typeof stage === 'string' ? (TIMEOUT_STAGES[stage] ?? '') : '';
    // A node's read-your-writes wait (`details.minRevision`, target `revision 34`) is no call: said as what it is,
    // wherever the error is built again from its details (a client, a copy naming the execution).
    const variable = options.details?.variable;
    const what =
      typeof options.details?.minRevision === 'number'
        ? `waiting for the node to apply ${target}`
        : `call to '${target}'${typeof variable === 'string' ? ` writing variable '${variable}'` : ''}`;
    super(`${what} timed out after ${timeoutMs} ms${where}${fate}`, {
      ...options,
      details: { target, timeoutMs, ...options.details },
    });
  }
}

/** The target process is not alive (never was, or exited); to a remote client, no node serves its request's subject. */
export class NoProcError extends BridgeError {
  override readonly code = 'noproc';
  /**
   * `target` is the subject of a remote request no node subscribes to (NATS's no responders), and the message says so
   * rather than call a subject a process.
   */
  readonly unserved: boolean;

  constructor(
    readonly target: string,
    options: BridgeErrorOptions & { readonly unserved?: boolean } = {},
  ) {
    const { unserved = false, ...rest } = options;
    super(unserved ? `no tether node serves '${target}'` : `no process '${target}' is alive`, {
      ...rest,
      details: { target, ...rest.details },
    });
    this.unserved = unserved;
  }
}

/**
 * A `Runtime` was asked to start a process (`spawn`, and so a supervisor's start) after its `stop()` began: a stopped
 * runtime would never stop it, nor restart it, so nothing is started. Start a new `Runtime`.
 */
export class RuntimeStoppedError extends BridgeError {
  override readonly code = 'runtime_stopped';
  constructor(
    /** What was refused: `spawn of '<name>'`, or `spawn` for an unnamed process. */
    readonly operation: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`the runtime was stopped: ${operation} refused (start a new Runtime)`, {
      ...options,
      details: { operation, ...options.details },
    });
  }
}

/** The target process exited (crashed or was stopped) while a call to it was waiting for its reply. */
export class ProcessExitedError extends BridgeError {
  override readonly code = 'process_exited';
  constructor(
    readonly target: string,
    readonly reason: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`process '${target}' exited (${reason}) before replying`, {
      ...options,
      details: { target, reason, ...options.details },
    });
  }
}

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

/**
 * A supervisor gave up: a child needed one restart more than `maxRestarts` within `maxSeconds` (OTP's
 * `reached_max_restart_intensity`). As OTP's, the supervisor stopped its other children and exited with `'shutdown'`;
 * this error is what says why, told to its runtime's `onError` (source `'restart'`) as OTP's supervisor report is
 * logged. `cause` is the child's crash error, or the `ChildStartError` of its restart that failed.
 */
export class MaxRestartIntensityError extends BridgeError {
  override readonly code = 'reached_max_restart_intensity';
  constructor(
    readonly supervisor: string,
    readonly childId: string,
    /** How the child last exited, as `formatExitReason` reads it (`crash: boom`), or `failed to start`. */
    readonly childExit: string,
    readonly maxRestarts: number,
    readonly maxSeconds: number,
    options: BridgeErrorOptions = {},
  ) {
    super(
      `supervisor '${supervisor}' reached its maximum restart intensity (${maxRestarts} restarts in ${maxSeconds} s) ` +
        `at child '${childId}' (${childExit}), and shut down`,
      { ...options, details: { supervisor, childId, childExit, maxRestarts, maxSeconds, ...options.details } },
    );
  }
}
