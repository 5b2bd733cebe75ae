/**
 * What the module endpoints need from the node they run on: its module processes, reached by session and module
 * id. The node (src/node) implements it over its module directory, so this layer depends on no runtime internals.
 * @module
 */
import type { ExecutionResult, ModuleDescription } from '../../machines/module.machine.js';
import type { ModuleHandle } from '../modules/module-handle.js';
import type { ModuleSpec } from '../modules/module-spec.js';
import type { Session } from '../session/session.js';

/** Options of {@link ModuleHost.execute}. */
export interface HostExecuteOptions {
  /** The id the client chose, so that it can cancel the execution and find it in the events. */
  readonly executionId: string;
  /** How long to wait, queue time included. @default the node's execution timeout */
  readonly timeoutMs?: number;
}

/**
 * A module's spec in the shared modules bucket, as this node read or wrote it. A process started from it must
 * check afterwards that it is still there: a stop removes the spec first, and may do so while the process starts.
 */
export interface SharedSpec {
  /** The bucket revision the spec was written at: a later write of the key removed or replaced it. */
  readonly revision: number;
  /** Resolves `false` once the spec was removed (or removed and written again) since this node saw it. */
  stillShared(): Promise<boolean>;
  /**
   * Set for a module that stays on the node that created it (its spec holds functions): the bucket holds that
   * node's claim of the id, not the spec. `release` gives the id back once the module ends there (see
   * module-claims.ts); later calls share the first, and it never rejects.
   */
  readonly local?: { release(): Promise<void> };
}

/**
 * Which process of a module a stop is for, by what the stop found in the modules bucket:
 * - `{ spec }`: it removed the spec written at that revision, so a process started from that spec or an older one;
 * - `{ claim }`: the module that stays on its node under the claim written at that revision, and no other;
 * - none: it found neither, so a process with no claim (one with a claim was created after the stop looked).
 */
export type StopScope =
  { readonly spec: number; readonly claim?: undefined } | { readonly claim: number; readonly spec?: undefined };

/** A node's module processes, as the module endpoints reach them. */
export interface ModuleHost {
  /**
   * The node's default execution timeout: an execution passed on to another node carries it when its caller gave
   * none, so it is this node's default that applies, whichever node runs it.
   */
  readonly executionTimeoutMs: number;
  /**
   * The module's process on this node; when there is none, `load` gives its spec and a process is started from
   * it without claiming the id again (it is claimed already). Concurrent wakes of one module share one start.
   * @throws {ModuleNotFoundError} when `load` finds no spec, or the spec is gone once the process has started
   */
  wake(
    session: Session,
    moduleId: string,
    load: () => Promise<(SharedSpec & { readonly spec: ModuleSpec }) | undefined>,
  ): Promise<ModuleHandle>;
  /**
   * Rejects with what the creation of module `moduleId` from `spec` would be refused with in session `sessionId` were
   * it new and empty (a bound variable missing, an unknown type, a signature Ax refuses); resolves when it would be
   * created. Starts, claims and writes nothing: for a create whose session is not there (module-operations.ts).
   */
  judgeCreate(sessionId: string, moduleId: string, spec: ModuleSpec): Promise<void>;
  /**
   * The module's description: from its process (or its hibernating handle) on this node; else from the spec `load`
   * gives, without starting a process (the counts are this node's: none). The type is what the spec names, or its
   * type variable holds now.
   * @throws {ModuleNotFoundError} when there is no process here and `load` finds no spec
   */
  describe(
    session: Session,
    moduleId: string,
    load: () => Promise<(SharedSpec & { readonly spec: ModuleSpec }) | undefined>,
  ): Promise<ModuleDescription>;
  /**
   * Whether the module is on this node, running or hibernating, and may serve, so that a request for it needs no
   * wake from the bucket: not one whose spec {@link ModuleHost.specWritten} was told is removed or replaced, nor one
   * a wake under way is still checking. A hibernating one is woken by {@link ModuleHost.execute} from the spec it ran.
   * Its session exists (a stopped or expired session stops its modules); if the session's process crashed or
   * hibernated here, the module's own sync wakes it.
   */
  running(sessionId: string, moduleId: string): boolean;
  /**
   * Queues one execution in the module's mailbox on this node, waking it if it hibernates (`NoProcError` without
   * a process here).
   */
  execute(
    sessionId: string,
    moduleId: string,
    inputs: Readonly<Record<string, unknown>>,
    options: HostExecuteOptions,
  ): Promise<ExecutionResult>;
  /**
   * Cancels an execution queued or running on this node; resolves `true` when there was one to cancel (never for a
   * module hibernating here, which is not woken for it).
   */
  cancel(sessionId: string, moduleId: string, executionId: string, reason?: string): Promise<boolean>;
  /**
   * Stops the module's process on this node, if it has one that `scope` names, after any wake or creation of it
   * under way here has settled; resolves `true` when it stopped one (a module that stays here has given its id back
   * by then). The module may have been created again since the stop looked, and a process of the new one is not
   * the stop's: see {@link StopScope}.
   */
  stopLocal(sessionId: string, moduleId: string, scope?: StopScope): Promise<boolean>;
  /**
   * The module's key in the modules bucket was written (a new spec, or a removal) at `revision`, as the node's
   * watch of the bucket saw it: a process here running a spec written before that is stale and stops, so that
   * even a node that missed the stop's control message (it was offline) stops running a removed spec. From this
   * call on it serves nothing: {@link ModuleHost.running} is `false` and {@link ModuleHost.wake} starts a process
   * of the current spec (once the stale one has stopped) or finds none; the node's wait for a client's modules
   * revision relies on that.
   */
  specWritten(sessionId: string, moduleId: string, revision: number): void;
  /**
   * The node lost its connection and may have missed writes to the modules bucket until its watch catches up:
   * each process started from a shared spec checks the bucket once before it is used again.
   */
  recheckSpecs(): void;
  /**
   * Checks now, against the bucket, each process {@link recheckSpecs} marked: one whose spec or claim is gone stops.
   * For when the connection is back, and when the bucket's watch passed by messages removed before it read them: a
   * stop's marker may have left the bucket meanwhile (late-removals.ts), and a handle held here would otherwise go
   * on running the module. A check that cannot read the bucket leaves its mark, for the next use or check; resolves
   * to how many processes are still marked.
   */
  checkSpecsNow(): Promise<number>;
}
