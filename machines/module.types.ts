/**
 * The module machine's vocabulary: what a module process starts from, the state it keeps, the events it accepts
 * and emits, and the commands and answers it exchanges with its runner (the actor `src/modules` provides). Apart
 * from the machine so that the runner and the handles can name them without reading its transitions.
 * @module
 */
import type { SerializedError } from '../src/errors.js';
import type { Mailbox } from './mailbox.js';
import type { ReplyEvent } from './protocol.js';

/** What a module process starts from. */
export interface ModuleMachineInput {
  readonly moduleId: string;
  readonly sessionId: string;
  readonly moduleType: string;
  /** The module's signature, as its spec gave it: `describe` tells it. */
  readonly signature: string;
  /**
   * Executions completed and failed before this process started, by the processes the module ran in before (a
   * module that hibernated when idle runs in a new process once woken): `describe` counts the module's, not the
   * process's. @default 0
   */
  readonly completed?: number;
  /** See `completed`. @default 0 */
  readonly failed?: number;
}

/** One execution request. */
export interface Execution {
  readonly executionId: string;
  readonly callId?: string | undefined;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** The tokens an execution's requests used, as the provider reported them, summed over every request. */
export interface ExecutionUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/**
 * What an execution produced, with the version of every variable value it used, the model its requests asked for
 * and the tokens they used.
 */
export interface ExecutionResult {
  readonly executionId: string;
  readonly moduleId: string;
  readonly moduleType: string;
  /**
   * The model the execution's requests asked for, as it went out in each request's `model` field: the module's
   * `model` (set, bound or from its spec), else the language model's configured one, else the provider's default
   * (`gpt-5-mini` for `openai`, …). When a bound model changed between the steps of a multi-step program, the last
   * step's. The offline `tether-echo` reports `tether-echo` unless the module names a model.
   */
  readonly model: string;
  readonly output: Readonly<Record<string, unknown>>;
  readonly reasoning?: string;
  readonly provenance: Readonly<Record<string, number>>;
  /**
   * The tokens used, summed over every request of the execution (each step of ReAct, each retry, sample and
   * BestOfN/Refine candidate, Refine's advice, ProgramOfThought's stages), as the provider reported them. Left out
   * when no answer reported usage; the offline `tether-echo` reports zeros.
   */
  readonly usage?: ExecutionUsage;
  /**
   * Present only when a sync of this execution was refused (a bound variable missing or holding a value its
   * attribute cannot take, a `module` variable naming no registered type): the sync before it, or one between the
   * steps of a multi-step program (ReAct). The error, as the `module.syncFailed` event carries it; when several
   * syncs of the execution were refused (each has its event), the first one's. The execution ran all the same with
   * the values of the last good sync: a sync applies the whole snapshot or nothing, so every bound attribute, and
   * the module type, kept what it held (`provenance` says which versions those are).
   */
  readonly syncFailed?: SerializedError;
}

/** What a sync reports: the (possibly new) module type and `{ attribute: [old, new] }` of what changed. */
export interface SyncOutcome {
  readonly moduleType: string;
  /** The type the program had before this sync swapped it, when it did. */
  readonly swappedFrom?: string;
  readonly changes: Readonly<Record<string, readonly [unknown, unknown]>>;
  /**
   * Only in a `module.synced` event over NATS, when the changes were too large for one message: the attributes
   * whose `[old, new]` were left out of `changes` (the largest first, until the event fit).
   */
  readonly changesOmitted?: readonly string[];
}

/** The module process's state. */
export interface ModuleMachineContext {
  readonly moduleId: string;
  readonly sessionId: string;
  readonly moduleType: string;
  readonly signature: string;
  /** The executions waiting their turn, oldest first (iterable; `length`; JSON as an array). */
  readonly mailbox: Mailbox;
  readonly current: Execution | null;
  readonly completed: number;
  readonly failed: number;
  /** How many executions this process has taken from its mailbox: the current one's number for the runner. */
  readonly run: number;
  /**
   * Why the first refused sync of run `run` was refused, for that run's result; a record of an earlier run is
   * stale (tied to its run rather than cleared, so that an execution whose syncs succeed costs nothing more).
   */
  readonly syncFailed: { readonly run: number; readonly error: SerializedError } | null;
  /**
   * The executions cancelled while their sync ran, oldest first, whose syncs still finish (a sync cannot be aborted,
   * and what it applied stays applied): each answer is reported when it comes, under its execution's id. Several, as
   * one execution after another may be cancelled while the runner still works through the syncs before them.
   */
  readonly abandonedSyncs: readonly { readonly run: number; readonly executionId: string }[];
}

/**
 * The runner's answers, each naming the run it is about: the process numbers its executions as it takes them
 * from the mailbox (execution ids come from callers and could repeat).
 */
export type RunnerEvent =
  /** The sync before the execution, or one between its steps that changed a value (then while `executing`). */
  | { readonly type: 'sync.done'; readonly run: number; readonly outcome: SyncOutcome }
  /** The sync before the execution, or one between its steps (then while `executing`), was refused. */
  | { readonly type: 'sync.failed'; readonly run: number; readonly error: SerializedError }
  | {
      readonly type: 'execution.delta';
      readonly run: number;
      readonly field: string;
      readonly delta: string;
      readonly restart?: true;
    }
  | {
      readonly type: 'execution.done';
      readonly run: number;
      readonly result: Omit<ExecutionResult, 'executionId' | 'moduleId'>;
    }
  | { readonly type: 'execution.failed'; readonly run: number; readonly error: SerializedError };

/**
 * What the process tells its runner. One execution runs at a time; a sync left behind by a cancel may still be
 * finishing when the next one starts (a sync only reads the session).
 */
export type RunnerCommand =
  | { readonly type: 'sync'; readonly run: number }
  | { readonly type: 'execute'; readonly run: number; readonly execution: Execution }
  | { readonly type: 'abort'; readonly run: number; readonly reason: string };

/** What the runner is started with. */
export interface RunnerInput {
  readonly sessionId: string;
  readonly moduleId: string;
}

/** Events a module process accepts. */
export type ModuleMachineEvent =
  | {
      readonly type: 'execute';
      readonly callId?: string;
      readonly executionId: string;
      readonly inputs: Readonly<Record<string, unknown>>;
    }
  | { readonly type: 'cancel'; readonly callId?: string; readonly executionId: string; readonly reason?: string }
  | { readonly type: 'describe'; readonly callId?: string }
  /**
   * The module lets its process go while idle (hibernation; see src/node/module-entry.ts): a final state of its own,
   * so an inspector tells a sleeping module, which the next use wakes, from one stopped for good.
   */
  | { readonly type: 'module.hibernate' }
  | RunnerEvent;

/** Announced to the outside: results, failures, deltas and syncs. */
export type ModuleEmittedEvent =
  | ReplyEvent
  | { readonly type: 'module.result'; readonly result: ExecutionResult }
  | {
      readonly type: 'module.failed';
      readonly moduleId: string;
      readonly executionId: string;
      readonly error: SerializedError;
    }
  | {
      readonly type: 'module.delta';
      readonly moduleId: string;
      readonly executionId: string;
      readonly field: string;
      readonly delta: string;
      /** The field starts over with this delta (a retry, another sample): what it held so far is to be dropped. */
      readonly restart?: true;
    }
  | {
      readonly type: 'module.synced';
      readonly moduleId: string;
      readonly executionId: string;
      readonly outcome: SyncOutcome;
    }
  | {
      readonly type: 'module.syncFailed';
      readonly moduleId: string;
      readonly executionId: string;
      readonly error: SerializedError;
    };

/** What `describe` answers. */
export interface ModuleDescription {
  readonly moduleId: string;
  readonly sessionId: string;
  /** The module's type now (a `module` variable named by `typeVariable` may have swapped it). */
  readonly moduleType: string;
  /** The module's signature, as its spec gave it: the inputs an execution takes and the outputs it gives. */
  readonly signature: string;
  readonly state: 'idle' | 'syncing' | 'executing';
  /** The execution the process is syncing or executing; absent while it is idle. */
  readonly executionId?: string;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
}
