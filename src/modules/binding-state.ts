/**
 * The bindings of one variable-aware module and the sync that applies them: one consistent read of every bound
 * variable, all-or-nothing validation, then attribute writes and callbacks. Kept outside the mixin class because
 * a class expression with private members cannot be described in declaration files.
 * @module
 */
import { BridgeError, SessionError, ValidationError, VariableNotFoundError } from '../errors.js';
import type { SessionContext, VariableSnapshot, VersionedValue } from '../session/session-context.js';
import { foundIn } from '../session/variable-reads.js';
import { setByName } from '../variables/names.js';
import { type SyncErrorHandler, checkAttributeValue } from './module-types.js';
import { messageOf, printable } from '../printable.js';
import { checkModuleExamples } from './program-module.js';

/** Called once per changed attribute with its old and new value. May be async; a throw is reported, not fatal. */
export type SyncCallback = (attribute: string, oldValue: unknown, newValue: unknown) => unknown;

/** `{ attribute: [oldValue, newValue] }` for every attribute a sync changed. */
export type SyncChanges = Record<string, [unknown, unknown]>;
/** What applying a sync gives: its changes, or a promise of them when a callback is to be awaited. */
type SyncResult = SyncChanges | Promise<SyncChanges>;

interface Binding {
  readonly variableName: string;
  readonly callback: SyncCallback | undefined;
}

/** Same value for sync purposes: identical primitives, or equal JSON for lists and objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Throws unless `attribute` can take `value`, which the session variable `variableName` bound to it holds: the
 * error names both, the variable in `details.variable` and the attribute in `details.field`. `target`, the module
 * about to take it, judges what depends on its signature (`examples`: its fields, and Ax's check of each value).
 * @throws {ValidationError} what `checkAttributeValue` throws, about the variable
 */
export function checkBoundValue(attribute: string, variableName: string, value: unknown, target?: object): void {
  try {
    checkAttributeValue(attribute, value);
    if (attribute === 'examples' && target !== undefined) checkModuleExamples(target, value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${error.message} (held by variable '${variableName}')`, {
      cause: error,
      variable: variableName,
      details: { ...error.details, field: attribute },
    });
  }
}

/** The distinct variable names `bindings` read, in binding order. */
function boundNames(bindings: ReadonlyMap<string, Binding>): string[] {
  return [...new Set([...bindings.values()].map((binding) => binding.variableName))];
}

/** The binding state of one module. */
export class BindingState {
  readonly #bindings = new Map<string, Binding>();
  /** The distinct bound variable names, in binding order; rebuilt after a bind or unbind, read by every sync. */
  #names: readonly string[] = [];
  readonly lastValues = new Map<string, unknown>();
  /** Version each attribute's value was read at: stale concurrent reads never overwrite newer ones. */
  readonly versions = new Map<string, number>();
  /** Identity of the variable each attribute's value came from, when the session says (see VersionedValue.id). */
  readonly #ids = new Map<string, string>();
  /**
   * Identity of the variable each attribute's binding names, as the session held it at the last read, applied or
   * refused: one defined again under the name since the value was applied makes that value's version another's.
   */
  readonly #heldIds = new Map<string, string>();
  onSyncError: SyncErrorHandler | undefined;
  /**
   * Told when a sync callback throws (its attribute has taken the new value all the same), instead of
   * {@link BindingState.report}: a runtime's module process sets it to tell the runtime's `onError`.
   */
  onCallbackError: ((error: unknown, attribute: string) => void) | undefined;
  /** The last provenance handed out, frozen and shared until a version changes. */
  #provenance: Readonly<Record<string, number>> | undefined;
  /** The session's variables stamp when this module last read them all (see SessionContext.variablesStamp). */
  #syncedStamp: number | undefined;
  #session: WeakRef<SessionContext> | undefined;
  #sessionId = '';

  constructor(session: SessionContext | undefined, onSyncError: SyncErrorHandler | undefined) {
    if (session) this.attach(session);
    this.onSyncError = onSyncError;
  }

  /** The bindings by attribute. Change them with {@link BindingState.bind} and {@link BindingState.unbind}. */
  get bindings(): ReadonlyMap<string, Binding> {
    return this.#bindings;
  }

  /**
   * Binds `attribute` to the variable as `read` (its value already applied to the module). A read at version 0
   * is no read of the variable: the attribute's own value, which the next sync replaces (or fails to).
   */
  bind(attribute: string, binding: Binding, read: VersionedValue): void {
    this.#bindings.set(attribute, binding);
    this.lastValues.set(attribute, read.value);
    this.versions.set(attribute, read.version);
    if (read.id === undefined) {
      this.#ids.delete(attribute);
      this.#heldIds.delete(attribute);
    } else {
      this.#ids.set(attribute, read.id);
      this.#heldIds.set(attribute, read.id);
    }
    this.#names = boundNames(this.#bindings);
    this.#syncedStamp = undefined;
    this.#provenance = undefined;
  }

  /**
   * What each bound attribute holds, as it was read (value, version, variable id): a hibernating module keeps
   * this to rebuild its program later with {@link BindingState.bind}, without reading the session, so that its
   * next sync reports (and calls back for) every change made meanwhile.
   */
  reads(): Record<string, VersionedValue> {
    // A plain object, not a Map: a hibernating module keeps it, and a module binds a few attributes.
    const out: Record<string, VersionedValue> = {};
    for (const attribute of this.#bindings.keys()) {
      const version = this.versions.get(attribute) ?? 0;
      const id = this.#ids.get(attribute);
      const value = this.lastValues.get(attribute);
      out[attribute] = id === undefined ? { value, version } : { value, version, id };
    }
    return out;
  }

  /** Removes the binding of `attribute`; whether there was one. */
  unbind(attribute: string): boolean {
    this.lastValues.delete(attribute);
    this.versions.delete(attribute);
    this.#ids.delete(attribute);
    this.#heldIds.delete(attribute);
    const removed = this.#bindings.delete(attribute);
    this.#names = boundNames(this.#bindings);
    this.#syncedStamp = undefined;
    this.#provenance = undefined;
    return removed;
  }

  /** Holds the session weakly, as the original did: a module must not keep a closed session alive. */
  attach(session: SessionContext): void {
    this.#session = new WeakRef(session);
    this.#sessionId = session.sessionId;
    this.#syncedStamp = undefined;
  }

  /** The session id last attached, kept even after the session is gone (for messages). */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** The session if it is still alive. */
  get session(): SessionContext | undefined {
    return this.#session?.deref();
  }

  /** The live session, or a `SessionError` saying why there is none. */
  requireSession(): SessionContext {
    const session = this.session;
    if (session) return session;
    if (!this.#session) {
      throw new ValidationError('module has no session; pass options.session or call attachSession()');
    }
    throw new SessionError('session_stopped', this.#sessionId, {
      details: { reason: 'session was garbage-collected' },
    });
  }

  /** `{ variableName: version }` of the values currently applied; frozen, and the same object until one changes. */
  provenance(): Readonly<Record<string, number>> {
    if (this.#provenance) return this.#provenance;
    this.#provenance = this.provenanceSince(undefined, undefined);
    return this.#provenance;
  }

  /**
   * The provenance of a step of a run that started with `started` (a copy of {@link BindingState.versions} taken
   * then): an attribute of `changing` is reported at the version applied now, any other at the version the run
   * started with, since the program keeps that value for the whole run (ReAct's instructions, say).
   */
  provenanceSince(
    started: ReadonlyMap<string, number> | undefined,
    changing: ReadonlySet<string> | undefined,
  ): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [attribute, binding] of this.bindings) {
      const fixed = started !== undefined && !changing?.has(attribute);
      const version = fixed ? started.get(attribute) : this.versions.get(attribute);
      // Version 0: the attribute holds the spec's own value, not one of the variable's (see ModuleInstance.wake).
      if (version === undefined || version <= 0) continue;
      // A value of a variable since deleted and defined again (a refused sync kept it): its version, looked up under
      // the name, would be the new variable's, another value. Left out, as a value of no variable is.
      const held = this.#heldIds.get(attribute);
      if (held !== undefined && held !== this.#ids.get(attribute)) continue;
      setByName(out, binding.variableName, version);
    }
    return Object.freeze(out);
  }

  /**
   * Reports a failed sync, or (`applied`) a sync callback that threw after its new value was applied: to the
   * handler if there is one, else as a process warning; never silently.
   */
  report(error: unknown, moduleType: string, applied = false): void {
    const err = error instanceof Error ? error : new Error(printable(error));
    if (this.onSyncError) {
      try {
        this.onSyncError(err, { moduleType, sessionId: this.#sessionId });
        return;
      } catch (handlerError) {
        process.emitWarning(`onSyncError handler threw: ${printable(handlerError)}`, { type: 'TetherSyncWarning' });
      }
    }
    const code = applied ? 'callback_failed' : err instanceof BridgeError ? err.code : 'sync_failed';
    const outcome = applied ? 'applied its new values, but' : 'kept its last values:';
    process.emitWarning(`${moduleType} in session '${this.#sessionId}' ${outcome} ${err.message}`, {
      type: 'TetherSyncWarning',
      code,
    });
  }

  /**
   * Reads every bound variable in one snapshot and applies what changed to `target`. Validates all values before
   * writing any, so a sync either applies the whole snapshot or nothing. Callback errors are reported afterwards.
   */
  async sync(target: object, moduleType: string): Promise<SyncChanges> {
    return this.syncNow(target, moduleType);
  }

  /**
   * {@link BindingState.sync}, without a promise when none is needed: modules sync before every execution, and
   * an embedded session whose process is alive answers the read at once (`readVariablesNow`). A promise comes
   * back when the session has to be asked asynchronously or a callback is to be called; failures are thrown
   * (or rejected) either way. With `only`, just those attributes are read, checked and applied (a step of a
   * multi-step program, which cannot change the others mid-run); the others wait for the next full sync.
   */
  syncNow(target: object, moduleType: string, only?: ReadonlySet<string>): SyncChanges | Promise<SyncChanges> {
    if (this.#bindings.size === 0) return {};
    const session = this.requireSession();
    // Nothing in the session changed since every bound variable was last read: there is nothing to apply.
    const stamp = session.variablesStamp?.();
    if (stamp !== undefined && stamp === this.#syncedStamp) return {};
    const now = session.readVariablesNow?.(this.#names);
    if (now) {
      const applied = this.#apply(target, moduleType, session, now, only);
      // Only once applied, and only when all was: a read that failed (a missing variable, a bad value) must fail
      // again next time, and what `only` left out must still be applied.
      if (only === undefined) this.#syncedStamp = stamp;
      return applied;
    }
    // Promise.resolve: a session of the user's may answer with another realm's promise or a thenable.
    return Promise.resolve(session.readVariables(this.#names)).then((snapshot) =>
      this.#apply(target, moduleType, session, snapshot, only),
    );
  }

  /**
   * Checks `snapshot` (a read of every bound variable, and maybe more) as a sync would, without applying any of
   * it: throws what the sync would refuse (a missing variable, a value its attribute cannot take), else returns
   * what applies it. A module that checks more than its bindings (its type variable, the program of a new type)
   * checks all of it first, so that a refusal anywhere applies nothing. `current` is the program judging the values.
   */
  check(snapshot: VariableSnapshot, current: object): (target: object, moduleType: string) => SyncResult {
    const anyNew = this.#check(this.requireSession(), snapshot, current);
    return (target, moduleType) => (anyNew ? this.#commit(target, moduleType, snapshot) : {});
  }

  #apply(
    target: object,
    moduleType: string,
    session: SessionContext,
    snapshot: VariableSnapshot,
    only?: ReadonlySet<string>,
  ): SyncChanges | Promise<SyncChanges> {
    return this.#check(session, snapshot, target, only) ? this.#commit(target, moduleType, snapshot, only) : {};
  }

  /** The bindings a sync of the attributes `only` (all when undefined) applies. */
  #bound(only: ReadonlySet<string> | undefined): Iterable<[string, Binding]> {
    return only === undefined ? this.#bindings : [...this.#bindings].filter(([attribute]) => only.has(attribute));
  }

  /** Throws unless every bound variable of `snapshot` can be applied; whether any holds something new. */
  #check(session: SessionContext, snapshot: VariableSnapshot, target: object, only?: ReadonlySet<string>): boolean {
    // First every read is checked, so that the sync applies all of them or none. What this module already has
    // (same variable, version and value) was checked when it was applied.
    this.#noteHeldIds(snapshot, only);
    let anyNew = false;
    for (const [attribute, binding] of this.#bound(only)) {
      const entry = foundIn(snapshot, binding.variableName);
      // Named with the attribute it feeds, as a refused value is: one variable may feed several.
      if (!entry)
        throw new VariableNotFoundError(session.sessionId, binding.variableName, { details: { field: attribute } });
      if (this.#holds(attribute, entry)) continue;
      anyNew = true;
      checkBoundValue(attribute, binding.variableName, entry.value, target);
    }
    return anyNew;
  }

  /** Notes the identity of each bound variable as `snapshot` read it, whether the sync then applies it or not. */
  #noteHeldIds(snapshot: VariableSnapshot, only: ReadonlySet<string> | undefined): void {
    for (const [attribute, binding] of this.#bound(only)) {
      const id = foundIn(snapshot, binding.variableName)?.id;
      if (id === undefined || this.#heldIds.get(attribute) === id) continue;
      this.#heldIds.set(attribute, id);
      this.#provenance = undefined;
    }
  }

  /** Applies a checked snapshot to `target`; callbacks are called afterwards, their errors reported. */
  #commit(
    target: object,
    moduleType: string,
    snapshot: VariableSnapshot,
    only?: ReadonlySet<string>,
  ): SyncChanges | Promise<SyncChanges> {
    const changes: SyncChanges = {};
    const calls: Array<{ readonly attribute: string; readonly call: () => unknown }> = [];
    for (const [attribute, binding] of this.#bound(only)) {
      const entry = foundIn(snapshot, binding.variableName)!;
      if (this.#holds(attribute, entry)) continue;
      // A variable defined again starts at version 1 again: its values are newer whatever their version.
      const knownId = this.#ids.get(attribute);
      const renewed = entry.id !== undefined && knownId !== undefined && entry.id !== knownId;
      if (!renewed && entry.version < (this.versions.get(attribute) ?? 0)) continue;
      this.versions.set(attribute, entry.version);
      this.#provenance = undefined;
      if (entry.id !== undefined) this.#ids.set(attribute, entry.id);
      const old = this.lastValues.get(attribute);
      if (sameValue(old, entry.value)) continue;
      (target as Record<string, unknown>)[attribute] = entry.value;
      this.lastValues.set(attribute, entry.value);
      changes[attribute] = [old, entry.value];
      const callback = binding.callback;
      if (callback) calls.push({ attribute, call: () => callback(attribute, old, entry.value) });
    }
    return calls.length === 0 ? changes : this.#call(calls, moduleType).then(() => changes);
  }

  /** Whether the attribute holds exactly what `entry` reads: the same variable, at the same version, same value. */
  #holds(attribute: string, entry: VersionedValue): boolean {
    return (
      entry.version === this.versions.get(attribute) &&
      entry.id === this.#ids.get(attribute) &&
      sameValue(this.lastValues.get(attribute), entry.value)
    );
  }

  /** Calls each callback in turn; one that throws is reported as such: its attribute took the new value anyway. */
  async #call(
    calls: readonly { readonly attribute: string; readonly call: () => unknown }[],
    moduleType: string,
  ): Promise<void> {
    for (const { attribute, call } of calls) {
      try {
        await call();
      } catch (error) {
        if (this.onCallbackError) {
          this.onCallbackError(error, attribute);
          continue;
        }
        const why = messageOf(error);
        const failure = new Error(`the callback of '${attribute}' failed: ${why}`, { cause: error });
        this.report(failure, moduleType, true);
      }
    }
  }
}

/** Where each module's state lives; weak, so state goes with its module. */
const states = new WeakMap<object, BindingState>();

/** The binding state of `module`, created on first use. */
export function bindingStateOf(module: object): BindingState {
  let state = states.get(module);
  if (!state) {
    state = new BindingState(undefined, undefined);
    states.set(module, state);
  }
  return state;
}

/** Installs the state of a freshly constructed module. */
export function initBindingState(
  module: object,
  session: SessionContext | undefined,
  onSyncError: SyncErrorHandler | undefined,
): void {
  states.set(module, new BindingState(session, onSyncError));
}
