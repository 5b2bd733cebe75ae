/**
 * The handle of a module process: execute (GenServer.call into its mailbox), cancel, describe, and listen to
 * its results, failures, deltas and state transitions.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, ModuleDescription, ModuleEmittedEvent } from '../../machines/module.machine.js';
import { ExecutionAbortedError, ProcessExitedError } from '../errors.js';
import { formatExitReason, type ExitReason } from '../runtime/exit-reason.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { ModuleLogic } from './module-logic.js';
import { assertExecuteOptionKeys, assertInputsObject } from './execute-arguments.js';
import { inputsAsCalled } from './inputs-as-called.js';
import { executionSignal, withAbortCause } from './execution-signal.js';
import { onAbort } from './signal-listeners.js';
import { executionTimeoutMs } from './execution-timeout.js';
import { lostExecutionError } from './naming-execution.js';
import { printable } from '../printable.js';
import type { ModuleApi } from './module-api.js';
import {
  assertModuleEventType,
  assertModuleListener,
  type ModuleEventListener,
  type ModuleEventType,
} from './module-event-type.js';
import { ModuleListeners } from './module-listeners.js';

/** Options of {@link ModuleHandle.execute}. */
export interface ExecuteOptions {
  /**
   * Cancels this execution, queued or running (its request in flight is aborted): `execute` rejects at once with
   * `ExecutionAbortedError` (`execution_aborted`), as a remote handle's does; one aborted before is not queued.
   */
  readonly signal?: AbortSignal;
  /**
   * How long to wait, queue time included: over 0 and at most 2^31-1 ms (a fraction is rounded up to a whole
   * millisecond), or `Infinity` for no limit; anything else is refused with `ValidationError` before the execution
   * is queued, as a remote handle refuses it. @default the runtime's execution timeout
   */
  readonly timeoutMs?: number;
}

type FailedEvent = Extract<ModuleEmittedEvent, { type: 'module.failed' }>;

/** What a handle needs from the runtime that runs its process. */
export interface ModuleHandleDeps {
  readonly processes: ProcessRuntime;
  readonly executionTimeoutMs: number;
  /**
   * Told when a listener throws (XState would rethrow it outside any caller and take Node down), and of the other
   * failures of the module's that no caller waits for, with where they happened (`where`; a listener's when absent).
   */
  readonly report: (error: unknown, where?: string) => void;
}

/** Tells what is wrong with an execution's inputs for the module's program, or `undefined` when nothing is. */
export type InputCheck = (inputs: Readonly<Record<string, unknown>>) => Error | undefined | Promise<Error | undefined>;

/** What the runtime that made a handle adds to it. */
export interface ModuleHandleHooks {
  /**
   * The module's process, woken first when the module hibernates (it was idle: its process was let go, see
   * `ModuleDirectory`); the handle is told of the new process ({@link ModuleHandle.attach}) before this returns.
   * @throws `ModuleNotFoundError` once the module was stopped (its spec removed), the session's `SessionError` once
   *   its session ended, `NoProcError` once its process exited by itself (crashed, killed, the runtime stopping)
   */
  readonly wake: () => ProcessRef<ModuleLogic>;
  /**
   * The description of a hibernating module, which `describe` answers without waking it (a monitor polling
   * `describe` must not keep every module awake); `undefined` when the module has a process, or has stopped.
   */
  readonly asleep?: () => ModuleDescription | undefined;
  /** Counts as activity of the module, which postpones its hibernation (called as an execution ends). */
  readonly touch?: () => void;
  /** Checks inputs before they are queued. */
  readonly checkInputs?: InputCheck;
  /** Notes an execution as a use of the module's session before it is queued (see `SessionContext.use`). */
  readonly use?: () => Promise<unknown> | undefined;
  /** What `stop()` does, when stopping the module is more than stopping this process (a module shared by nodes). */
  readonly stop?: () => Promise<void>;
}

/**
 * A module process of a session. The handle outlives the process: a module idle for the runtime's idle time
 * hibernates (its process stops, its spec stays) and the next `execute` wakes it in a new process (`describe`
 * answers for it asleep, state `idle`),
 * with the same bindings and counts; the listeners attached with `on` and `onState` follow it there.
 * @example
 * await session.defineVariable('llm_temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
 * const qa = await session.module('qa', {
 *   type: 'ChainOfThought',
 *   signature: 'question -> answer',
 *   bindings: { temperature: 'llm_temperature' },
 * });
 * const { output, provenance } = await qa.execute({ question: 'Why is the sky blue?' });
 */
export class ModuleHandle implements ModuleApi {
  /** The module's process while it runs; none while it hibernates, nor once the module has stopped for good. */
  #process: ProcessRef<ModuleLogic> | undefined;
  #ended = false;
  /** The listeners of `on` and `onState`, which follow the module from process to process. */
  readonly #listeners: ModuleListeners;

  /** Not for direct use: handles come from `session.module()`. */
  constructor(
    readonly moduleId: string,
    readonly sessionId: string,
    private readonly deps: ModuleHandleDeps,
    private readonly hooks: ModuleHandleHooks,
  ) {
    this.#listeners = new ModuleListeners(sessionId, moduleId, (error, where) => this.deps.report(error, where));
  }

  /** Whether the module is running: true while it hibernates (the next use wakes it), false once it has stopped. */
  get alive(): boolean {
    return this.#process ? this.#process.alive : !this.#ended;
  }

  /**
   * Queues one execution; resolves with its output and the provenance `{ variable: version }` of the values
   * it used; frozen, its output throughout (every `module.result` listener gets the same object). Executions of one
   * module run one at a time, in the order they were sent.
   * @throws {ValidationError} before queueing, for inputs the program's signature refuses (a required field
   * missing, a value of the wrong type, a field it does not have), naming the field; for an option other than
   * `timeoutMs` and `signal`, and a `timeoutMs` or `signal` it refuses
   * @throws {ProcessExitedError} when the module's process exits (crashed, killed, stopped) with the execution in
   * it: `details.executionId` names it, as the `module.failed` event announcing it does
   * @throws {ModuleNotFoundError} once the module was stopped; the `SessionError` its session's handle gets once the
   * session was stopped, deleted or expired, or its runtime began to stop (as a remote module handle does);
   * `NoProcError` once its process exited by itself (crashed, killed)
   * @throws {CallTimeoutError} (`call_timeout`) when the execution did not end within `timeoutMs` (the runtime's
   * `executionTimeoutMs` without one), queue time included: the message names the stage it timed out in, and the
   * execution is cancelled
   * @throws {ExecutionAbortedError} (`execution_aborted`) when `signal` fires, or had fired before the call
   * @throws {ProviderError} (`provider_error`), `ProviderUnavailableError` (`provider_unavailable`), `ModelAnswerError`
   * (`model_answer_invalid`) or `ToolFailedError` (`tool_failed`) when the LLM provider, its answer or a tool failed
   * the execution (README, "Errors", says what each carries), as a remote handle's execution does
   */
  async execute(given: Readonly<Record<string, unknown>>, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    assertInputsObject(this.moduleId, given);
    const inputs = inputsAsCalled(given);
    assertExecuteOptionKeys(this.moduleId, options);
    const { timeoutMs } = options;
    // Checked as a remote handle checks it (see execution-timeout.ts), not left to the process runtime's own words.
    const timeout =
      timeoutMs === undefined
        ? this.deps.executionTimeoutMs
        : executionTimeoutMs(this.sessionId, this.moduleId, timeoutMs);
    const signal = executionSignal(this.sessionId, this.moduleId, options.signal);
    // A use of the session until it ends: one near its expiry is stamped first, or the execution never starts.
    const used = this.hooks.use?.();
    if (used) await used;
    // The program checks the inputs: a hibernating module is woken first.
    let process = this.hooks.wake();
    // Refused here, not in the mailbox: a caller's mistake neither waits behind other executions nor counts as a
    // failed execution of the module.
    let invalid = this.hooks.checkInputs?.(inputs);
    // A promise only for a module with a type variable, which reads it: no microtask for any other. That read may
    // wait (its session's process loading again), and the module hibernate or end meanwhile: the execution goes to
    // the process it has now, or fails as the module's next calls will.
    if (invalid instanceof Promise) {
      invalid = await invalid;
      if (!invalid) process = this.hooks.wake();
    }
    if (invalid) throw invalid;
    const executionId = randomUUID();
    const reason = (): string => printable(signal?.reason ?? 'aborted');
    if (signal?.aborted)
      throw new ExecutionAbortedError(this.moduleId, executionId, {
        cause: signal.reason,
        details: { reason: reason() },
      });
    const cancel = (why: string) => this.deps.processes.cast(process, { type: 'cancel', executionId, reason: why });
    // One listener on a signal however many executions share it (see signal-listeners.ts).
    const offAbort = signal && onAbort(signal, () => cancel(reason()));
    try {
      return (await this.deps.processes.call(
        process,
        { type: 'execute', executionId, inputs },
        { timeout },
      )) as ExecutionResult;
    } catch (error) {
      const ids = { sessionId: this.sessionId, moduleId: this.moduleId, executionId };
      throw lostExecutionError(withAbortCause(error, signal, reason()), process, ids, () => cancel('timed out'));
    } finally {
      offAbort?.();
      // The module's idle time counts from the end of its last execution, however long that took.
      this.hooks.touch?.();
    }
  }

  /** The module's type, state, queue length and counts. */
  async describe(): Promise<ModuleDescription> {
    const asleep = this.hooks.asleep?.();
    if (asleep) return asleep;
    return (await this.deps.processes.call(this.hooks.wake(), { type: 'describe' })) as ModuleDescription;
  }

  /**
   * Calls `listener` for every event of `type` this module announces, frozen (every listener gets the same object);
   * returns the unsubscribe function.
   * `module.failed` also comes once for every execution the process held (running or queued) when it exited,
   * crashed, killed or stopped (a `stop()` included): its `error` is the {@link ProcessExitedError}
   * (`process_exited`, the exit reason in `details.reason`) that the execution's caller got. A hibernation is no
   * such exit: a module hibernates only with nothing queued or running.
   */
  on<T extends ModuleEventType>(type: T, listener: ModuleEventListener<T>): () => void {
    assertModuleEventType(type);
    assertModuleListener(listener, 'on');
    return this.#listeners.on(type, listener, this.#process);
  }

  /**
   * @internal Whether anyone listens for `module.delta`: only then is the provider asked to stream (a NATS node
   * always is, since it publishes every module's deltas for listeners it cannot see).
   */
  get wantsDeltas(): boolean {
    return this.#listeners.wantsDeltas;
  }

  /**
   * Calls `listener` with the current state (`idle`, `syncing`, `executing`) at once, before it returns, then after
   * every change of it. Its second argument names the execution the module is syncing or executing (`undefined`
   * while idle), so a change from one execution to the next is heard even when the state stays `syncing` (the first
   * was cancelled). A hibernating module is `idle`. A module that is gone (stopped, its session ended, its process
   * dead) has no state: the listener is never called, as a remote handle's is not, and its calls reject.
   */
  onState(listener: (state: ModuleDescription['state'], executionId: string | undefined) => void): () => void {
    assertModuleListener(listener, 'onState');
    // Its handle never has a process again (a module created again under the id gets a handle of its own): the
    // state last heard would be told as current, `executing` even, for a module that no longer is.
    if (!this.alive) return () => {};
    return this.#listeners.onState(listener, this.#process);
  }

  /** @internal The module runs in `process` from now on (it started, or woke from hibernation): listeners follow. */
  attach(process: ProcessRef<ModuleLogic>): void {
    this.#process = process;
    this.#listeners.follow(process);
  }

  /**
   * @internal The module's process is let go: it hibernates, or (`ended`) the module stopped for good. The
   * handle keeps its listeners, but no reference to the process (whose actor hibernation is there to free).
   */
  release(ended: boolean): void {
    this.#listeners.unfollow();
    this.#process = undefined;
    if (ended) this.#ended = true;
  }

  /**
   * @internal The module's process exited for real (crashed, killed or stopped; not a hibernation, which lets an
   * idle process go): each execution it held, running or queued, is announced to the `module.failed` listeners.
   * Its actor is stopped by then and a stopped actor emits nothing, so they are read from its last snapshot. An
   * execution whose arrival crashed the process is not in that snapshot: it was never accepted, and only its
   * caller hears. Called before the module's observers are told it ended, so that they hear these too.
   */
  exited(process: ProcessRef<ModuleLogic>, reason: ExitReason): void {
    const { current, mailbox } = process.getSnapshot().context;
    const lost = current ? [current, ...mailbox] : mailbox;
    // The error each caller got (see PendingCalls.failAll), naming the execution too.
    const target = process.name ?? process.id;
    const why = formatExitReason(reason);
    for (const { executionId } of lost) {
      const error = new ProcessExitedError(target, why, {
        details: { processId: process.id, sessionId: this.sessionId, moduleId: this.moduleId, executionId },
      }).toJSON();
      const event: FailedEvent = { type: 'module.failed', moduleId: this.moduleId, executionId, error };
      this.#listeners.deliver(event);
    }
  }

  /**
   * Stops the module. Executions it holds, running or queued, are dropped: each caller's promise rejects with
   * {@link ProcessExitedError} (`process_exited`, reason `shutdown`) and each is announced as `module.failed`
   * with that error (see {@link ModuleHandle.on}), as for a process that crashed. On a NATS node a module created
   * with a shareable spec is stopped everywhere, as the wire `stop` does: its spec leaves the modules bucket
   * (unless the id was re-created since), every node's process of it stops, and its id is free for a new module.
   * (A node stopping, or a session stopping on one node, stops only that node's processes: other nodes go on
   * serving the specs.) A hibernating module is not woken for it (it holds no execution).
   * @throws {InternalError} when the modules bucket cannot be reached: this node's process is stopped all the same,
   *   but the spec stays and other nodes may go on serving the module
   * @throws {SessionError} (`session_stopped`) on a NATS node once its runtime or its session there stopped, for a
   *   module whose spec is in the bucket: the spec stays, as above, and this handle removes nothing (a module that
   *   stays on its node, or an embedded runtime's, ended with them, and this resolves)
   */
  stop(): Promise<void> {
    if (this.hooks.stop) return this.hooks.stop();
    return this.#process ? this.deps.processes.stop(this.#process) : Promise.resolve();
  }
}
