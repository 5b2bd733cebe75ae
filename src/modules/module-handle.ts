/**
 * The handle of a module process: execute (GenServer.call into its mailbox), cancel, describe, and listen to
 * its results, failures, deltas and state transitions.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, ModuleDescription, ModuleEmittedEvent } from '../../machines/module.machine.js';
import { CallTimeoutError, ExecutionAbortedError, ProcessExitedError, ValidationError } from '../errors.js';
import { formatExitReason, type ExitReason } from '../runtime/exit-reason.js';
import type { ProcessRef } from '../runtime/process.js';
import type { ProcessRuntime } from '../runtime/process-runtime.js';
import type { ModuleLogic } from './module-logic.js';

/** Options of {@link ModuleHandle.execute}. */
export interface ExecuteOptions {
  /** Cancels this execution, queued or running (its request in flight is aborted). */
  readonly signal?: AbortSignal;
  /** How long to wait, queue time included. @default the runtime's execution timeout */
  readonly timeoutMs?: number;
}

/** The events a module announces, by type. */
export type ModuleEventType = Exclude<ModuleEmittedEvent['type'], 'tether.reply'>;

/** A listener of one module event type. */
export type ModuleEventListener<T extends ModuleEventType> = (event: Extract<ModuleEmittedEvent, { type: T }>) => void;

type FailedEvent = Extract<ModuleEmittedEvent, { type: 'module.failed' }>;

/** What a handle needs from the runtime that runs its process. */
export interface ModuleHandleDeps {
  readonly processes: ProcessRuntime;
  readonly executionTimeoutMs: number;
  /** Told when a listener throws: XState would rethrow it outside any caller and take Node down. */
  readonly report: (error: unknown) => void;
}

/** Tells what is wrong with an execution's inputs for the module's program, or `undefined` when nothing is. */
export type InputCheck = (inputs: Readonly<Record<string, unknown>>) => Error | undefined;

/** What the runtime that made a handle adds to it. */
export interface ModuleHandleHooks {
  /** Checks inputs before they are queued. */
  readonly checkInputs?: InputCheck;
  /** What `stop()` does, when stopping the module is more than stopping this process (a module shared by nodes). */
  readonly stop?: () => Promise<void>;
}

/**
 * A module process of a session.
 * @example
 * const qa = await session.module('qa', { type: 'ChainOfThought', signature: 'question -> answer', bindings: { temperature: 'llm_temperature' } });
 * const { output, provenance } = await qa.execute({ question: 'Why is the sky blue?' });
 */
export class ModuleHandle {
  /** The `module.failed` listeners, also told of the executions the process held when it exited. */
  readonly #failedListeners = new Set<(event: FailedEvent) => void>();

  /** @internal Handles come from `session.module()`. */
  constructor(
    readonly moduleId: string,
    readonly sessionId: string,
    private readonly process: ProcessRef<ModuleLogic>,
    private readonly deps: ModuleHandleDeps,
    private readonly hooks: ModuleHandleHooks = {},
  ) {
    // Registered before anyone can subscribe through this handle, so it runs ahead of the cleanups that
    // observers (the NATS node's event publisher) run when the process exits: they still hear these failures.
    void process.exited.then((reason) => this.#failLost(reason));
  }

  /** Whether the module process is running. */
  get alive(): boolean {
    return this.process.alive;
  }

  /**
   * Queues one execution; resolves with its output and the provenance `{ variable: version }` of the values
   * it used. Executions of one module run one at a time, in the order they were sent.
   * @throws {ValidationError} before queueing, for inputs the program's signature refuses (a required field
   * missing, a value of the wrong type, a field it does not have), naming the field
   */
  async execute(inputs: Readonly<Record<string, unknown>>, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new ValidationError(`execute() of module '${this.moduleId}' takes an object of input fields`);
    }
    // Refused here, not in the mailbox: a caller's mistake neither waits behind other executions nor counts as a
    // failed execution of the module.
    const invalid = this.hooks.checkInputs?.(inputs);
    if (invalid) throw invalid;
    const executionId = randomUUID();
    const { signal } = options;
    if (signal?.aborted) throw new ExecutionAbortedError(this.moduleId, executionId, { cause: signal.reason });
    const cancel = (reason: string) => this.deps.processes.cast(this.process, { type: 'cancel', executionId, reason });
    const onAbort = () => cancel(String(signal?.reason ?? 'aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const timeout = options.timeoutMs ?? this.deps.executionTimeoutMs;
      return (await this.deps.processes.call(
        this.process,
        { type: 'execute', executionId, inputs },
        { timeout },
      )) as ExecutionResult;
    } catch (error) {
      // Nobody waits for it any more: cancel it, so it neither blocks the mailbox nor costs a provider call.
      if (error instanceof CallTimeoutError) cancel('timed out');
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The module's type, state, queue length and counts. */
  async describe(): Promise<ModuleDescription> {
    return (await this.deps.processes.call(this.process, { type: 'describe' })) as ModuleDescription;
  }

  /**
   * Calls `listener` for every event of `type` this module announces; returns the unsubscribe function.
   * `module.failed` also comes once for every execution the process held (running or queued) when it exited,
   * crashed, killed or stopped (a `stop()` included): its `error` is the {@link ProcessExitedError}
   * (`process_exited`, the exit reason in `details.reason`) that the execution's caller got.
   */
  on<T extends ModuleEventType>(type: T, listener: ModuleEventListener<T>): () => void {
    const guarded = (event: Extract<ModuleEmittedEvent, { type: T }>) => this.#guard(() => listener(event));
    const subscription = this.process.actor.on(type, guarded as never);
    if (type !== 'module.failed') return () => subscription.unsubscribe();
    const failed = guarded as (event: FailedEvent) => void;
    this.#failedListeners.add(failed);
    return () => {
      subscription.unsubscribe();
      this.#failedListeners.delete(failed);
    };
  }

  /** Calls `listener` with the current state (`idle`, `syncing`, `executing`), then after every change of it. */
  onState(listener: (state: ModuleDescription['state']) => void): () => void {
    let last: unknown = this.process.getSnapshot().value;
    this.#guard(() => listener(last as ModuleDescription['state']));
    const subscription = this.process.actor.subscribe({
      next: (snapshot) => {
        if (snapshot.value === last) return;
        last = snapshot.value;
        this.#guard(() => listener(snapshot.value as ModuleDescription['state']));
      },
      // XState rethrows a crash (in a setTimeout) when any observer lacks an error handler; the runtime reports it.
      error: () => {},
    });
    return () => subscription.unsubscribe();
  }

  /**
   * Announces the executions the process held when it exited. Its actor is stopped by then and a stopped actor
   * emits nothing, so they are read from its last snapshot and told to the listeners from here. An execution
   * whose arrival crashed the process is not in that snapshot: it was never accepted, and only its caller hears.
   */
  #failLost(reason: ExitReason): void {
    if (this.#failedListeners.size === 0) return;
    const { current, mailbox } = this.process.getSnapshot().context;
    const lost = current ? [current, ...mailbox] : mailbox;
    // The error each caller got (see PendingCalls.failAll), naming the execution too.
    const target = this.process.name ?? this.process.id;
    const why = formatExitReason(reason);
    for (const { executionId } of lost) {
      const error = new ProcessExitedError(target, why, {
        details: { processId: this.process.id, sessionId: this.sessionId, moduleId: this.moduleId, executionId },
      }).toJSON();
      const event: FailedEvent = { type: 'module.failed', moduleId: this.moduleId, executionId, error };
      for (const listener of [...this.#failedListeners]) listener(event);
    }
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.deps.report(error);
    }
  }

  /**
   * Stops the module. Executions it holds, running or queued, are dropped: each caller's promise rejects with
   * {@link ProcessExitedError} (`process_exited`, reason `shutdown`) and each is announced as `module.failed`
   * with that error (see {@link ModuleHandle.on}), as for a process that crashed. On a NATS node a module created with a shareable spec is
   * stopped everywhere, as the wire `stop` does: its spec leaves the modules bucket (unless the id was re-created
   * since), every node's process of it stops, and its id is free for a new module. (A node stopping, or a session
   * stopping on one node, stops only that node's processes: other nodes go on serving the specs.)
   * @throws {InternalError} when the modules bucket cannot be reached: this node's process is stopped all the same,
   *   but the spec stays and other nodes may go on serving the module
   */
  stop(): Promise<void> {
    return this.hooks.stop ? this.hooks.stop() : this.deps.processes.stop(this.process);
  }
}
