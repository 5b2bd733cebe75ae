/**
 * The small interface the module layer needs from a session. A `Session` implements it, and so does the
 * remote client's handle; tests can pass a plain object.
 * @module
 */
import type { VariableType } from '../variables/types.js';

/** One accepted write, as watchers receive it: frozen, its values deeply, embedded as remotely. */
export interface VariableChange {
  readonly name: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
  readonly version: number;
  readonly updatedBy: string | null;
  /** Set when the write deleted the variable (`newValue` is then `undefined`). */
  readonly deleted?: true;
  /**
   * Set on a change that cannot be proved the next one: writes before it may be missing. A remote watch sets it as
   * it catches up after its connection dropped or after an event that skipped versions (their node died before
   * publishing the ones in between), when their versions are past the variable's kept history, or the variable was
   * deleted, or deleted and defined again, meanwhile; a variable deleted meanwhile comes as `deleted` with the
   * version one past the last one delivered (the delete's own is not known), unless the delete's own event came.
   * An embedded watch sets it when its session skipped versions, as when, on a NATS node whose bucket watch lagged
   * more than a write's conflict wait (1.5 s), the session folds in what the write re-read. `oldValue` is then
   * `undefined`. The changes after it are in order again.
   */
  readonly gap?: true;
}

/** Called once per accepted write, in version order. A listener that throws or rejects is reported, never fatal. */
export type VariableListener = (change: VariableChange) => void;

/** Stops a watch; calling it twice is harmless. */
export type Unwatch = () => void;

/** Options of `watchVariables`. */
export interface WatchVariablesOptions {
  /**
   * Deliver each matching variable's current value first (with `oldValue: undefined`), before any update.
   * @default false
   */
  readonly includeInitial?: boolean;
}

/** A value and the version it was read at. */
export interface VersionedValue {
  readonly value: unknown;
  readonly version: number;
  /**
   * The variable's identity, when the session knows it: a variable deleted and defined again is another
   * variable, whose versions start again at 1. Modules use it to tell that from an older read of the same one.
   */
  readonly id?: string;
}

/** A read that also says the variable's type, as a session reading its own records does. */
export interface TypedVersionedValue extends VersionedValue {
  readonly type: VariableType;
}

/** What {@link SessionContext.readVariables} returns: with `TypedVersionedValue` reads, a session's own. */
export interface VariableSnapshot<Read extends VersionedValue = VersionedValue> {
  readonly found: Readonly<Record<string, Read>>;
  readonly missing: readonly string[];
}

/** The part of a session that variable-aware modules depend on. */
export interface SessionContext {
  readonly sessionId: string;
  /**
   * On a NATS node, the life of the session (its record's `incarnation`: deleted or expired and opened again, an id
   * is another session); `undefined` where sessions have no lives (an embedded runtime) or the handle knows none.
   */
  readonly incarnation?: string | undefined;
  /** The variable's current value; rejects with `VariableNotFoundError` when it does not exist. */
  getVariable(name: string): Promise<unknown>;
  /** Validates and writes a value; rejects with `ValidationError` (or a lock or conflict error), changing nothing. */
  setVariable(name: string, value: unknown): Promise<unknown>;
  /** Reads several variables from one consistent state of the session, each with its version. */
  readVariables(names: readonly string[]): Promise<VariableSnapshot>;
  /**
   * The same read, synchronously, when the session has its state at hand (an embedded session whose process is
   * alive); `undefined` when it would have to wait. Optional: modules fall back to `readVariables`.
   */
  readVariablesNow?(names: readonly string[]): VariableSnapshot | undefined;
  /**
   * A number that changes whenever any variable of the session changes (at that moment), unique to that state of
   * the session across sessions and restarts; `undefined` when it cannot be known at once. A module that read its
   * variables at stamp S need not read them again while the stamp is still S. Optional: modules then always read.
   */
  variablesStamp?(): number | undefined;
  /** Delivers every accepted write to a variable whose name matches the glob `pattern`. */
  watchVariables(pattern: string, listener: VariableListener, options?: WatchVariablesOptions): Promise<Unwatch>;
  /**
   * Notes a use of the session made elsewhere than through its own operations (a module's execution), so that it
   * does not expire under it: `undefined` when noted at once, else a promise that resolves once it was, or rejects
   * with the `SessionError` of a session that ended. Optional: a session without lives has nothing to wait for.
   */
  use?(): Promise<unknown> | undefined;
}
