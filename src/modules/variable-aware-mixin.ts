/**
 * `VariableAwareMixin(Base)`: binds module attributes to session variables and re-syncs them before every
 * execution (and between the steps of a multi-step program), as the original design's mixin did; and the
 * variable-aware classes of the eight module types, each the mixin applied to the plain class.
 * @module
 */
import type { SessionContext } from '../session/session-context.js';
import { foundIn } from '../session/variable-reads.js';
import { ValidationError, VariableNotFoundError } from '../errors.js';
import {
  type BindingState,
  type SyncCallback,
  type SyncChanges,
  bindingStateOf,
  checkBoundValue,
  initBindingState,
} from './binding-state.js';
import {
  type FieldValues,
  type ForwardOptions,
  type ModuleResult,
  type SyncErrorHandler,
  checkBindableAttribute,
  snapshotParameters,
} from './module-types.js';
import type { RunHooks } from './ax-program-runner.js';
import { STEP_ATTRIBUTES } from './ax-bridge.js';
import {
  type ModuleOptions,
  type ProgramModule,
  NO_FORWARD_OPTIONS,
  assertForwardOptions,
  checksOptionKeys,
  executeModule,
  isMultiStep,
} from './program-module.js';
import {
  BestOfN,
  ChainOfThought,
  ChainOfThoughtWithHint,
  MultiChainComparison,
  Predict,
  ProgramOfThought,
  ReAct,
  Refine,
} from './programs.js';
import { printable } from '../printable.js';

export type { SyncCallback, SyncChanges } from './binding-state.js';

/** The API the mixin adds to a module. */
export interface VariableAware {
  /** The session, while it is alive (it is held weakly). */
  readonly session: SessionContext | undefined;
  /** Attaches (or replaces) the session whose variables the bindings read. */
  attachSession(session: SessionContext): this;
  /** Where failed syncs are reported; replaces `options.onSyncError`. */
  setSyncErrorHandler(handler: SyncErrorHandler | undefined): this;
  /**
   * Binds `attribute` to `variableName`: reads the variable now (a missing one rejects with
   * `VariableNotFoundError`, "not found"), sets the attribute, and re-reads it at every sync. An LLM parameter
   * (`BINDABLE_ATTRIBUTES`) or a program parameter (`PROGRAM_PARAMETERS`: BestOfN's `n`, Refine's `rounds`,
   * MultiChainComparison's `samples`, `threshold`) takes effect from the next execution; a value it cannot take
   * is refused with a `ValidationError`, now and at every sync (which then keeps the last good value).
   */
  bindToVariable(attribute: string, variableName: string, syncCallback?: SyncCallback): Promise<void>;
  /** Re-reads every bound variable in one snapshot; returns `{ attribute: [old, new] }` for what changed. */
  syncVariables(): Promise<SyncChanges>;
  /** The variable `attribute` is bound to, if any. */
  getBoundVariable(attribute: string): string | undefined;
  /** `{ attribute: variableName }` for every binding. */
  getBindings(): Record<string, string>;
  /** `{ attribute: value }` as last read from the session. */
  getLastSyncedValues(): Record<string, unknown>;
  /** Removes the binding and its last value; the attribute keeps its current value. Returns whether one existed. */
  unbindVariable(attribute: string): boolean;
  /** Syncs (unless `autoSync: false`), then executes; the result carries the provenance of the values used. */
  forward(values: FieldValues, options?: ForwardOptions): Promise<ModuleResult>;
}

/** A concrete module class the mixin can extend: constructed as `(signature, options)`. */
export type MixableModuleClass = new (...args: any[]) => ProgramModule;

/**
 * Makes a module class variable-aware. The class must take `(signature, options)`; `options.session` and
 * `options.onSyncError` are picked up by the mixin.
 * @example
 * class VariableAwareSummarize extends VariableAwareMixin(Summarize) {}
 * const m = new VariableAwareSummarize('document -> summary', { session })
 * await m.bindToVariable('temperature', 'llm_temperature')
 */
export function VariableAwareMixin<TBase extends MixableModuleClass>(
  Base: TBase,
  // Declared, not inferred: the declaration emitted for the inferred class expression turns the methods returning
  // `this` (attachSession, setSyncErrorHandler) into `any`, so an installed package typed `m.attachSession(s).x`.
  // TypeScript mixes this constructor's instance type into each of TBase's construct signatures, which keep their
  // parameters.
): TBase & (new (...args: any[]) => VariableAware) {
  return class VariableAwareModule extends Base implements VariableAware {
    constructor(...args: any[]) {
      super(...args);
      const options = (args[1] ?? {}) as ModuleOptions;
      initBindingState(this, options.session, options.onSyncError);
    }

    get session(): SessionContext | undefined {
      return bindingStateOf(this).session;
    }

    attachSession(session: SessionContext): this {
      bindingStateOf(this).attach(session);
      return this;
    }

    setSyncErrorHandler(handler: SyncErrorHandler | undefined): this {
      bindingStateOf(this).onSyncError = handler;
      return this;
    }

    async bindToVariable(attribute: string, variableName: string, syncCallback?: SyncCallback): Promise<void> {
      const state = bindingStateOf(this);
      checkBindableAttribute(this, attribute);
      if (syncCallback !== undefined && typeof syncCallback !== 'function') {
        // Checked now: a callback that is not one would fail, and be reported, at every change.
        throw new ValidationError(
          `the sync callback of '${attribute}' must be a function, got ${typeof syncCallback}`,
          // The attribute in `field`, as this method's other refusals name it; `variable` is for session variables.
          { details: { field: attribute } },
        );
      }
      const session = state.requireSession();
      const snapshot = await session.readVariables([variableName]);
      const entry = foundIn(snapshot, variableName);
      if (!entry) throw new VariableNotFoundError(session.sessionId, variableName);
      checkBoundValue(attribute, variableName, entry.value, this);
      (this as unknown as Record<string, unknown>)[attribute] = entry.value;
      state.bind(attribute, { variableName, callback: syncCallback }, entry);
    }

    syncVariables(): Promise<SyncChanges> {
      return bindingStateOf(this).sync(this, this.moduleType);
    }

    getBoundVariable(attribute: string): string | undefined {
      return bindingStateOf(this).bindings.get(attribute)?.variableName;
    }

    getBindings(): Record<string, string> {
      const out: Record<string, string> = {};
      for (const [attribute, binding] of bindingStateOf(this).bindings) out[attribute] = binding.variableName;
      return out;
    }

    getLastSyncedValues(): Record<string, unknown> {
      return Object.fromEntries(bindingStateOf(this).lastValues);
    }

    unbindVariable(attribute: string): boolean {
      return bindingStateOf(this).unbind(attribute);
    }

    // Not async: an embedded session syncs at once, and each async layer would cost every execution a microtask.
    override forward(values: FieldValues, options: ForwardOptions = NO_FORWARD_OPTIONS): Promise<ModuleResult> {
      try {
        assertForwardOptions(options);
        const state = bindingStateOf(this);
        const pending = options.autoSync === false ? undefined : syncReported(this, state, options.onSyncFailed);
        if (pending) return pending.then(() => forwardSynced(this, state, values, options));
        return forwardSynced(this, state, values, options);
      } catch (error) {
        // Whatever is wrong (options that are not an object), the caller hears of it as a rejection.
        return Promise.reject(error);
      }
    }
  };
}

/** One execution with the values the module holds after its sync. */
function forwardSynced(
  module: ProgramModule,
  state: BindingState,
  values: FieldValues,
  options: ForwardOptions,
): Promise<ModuleResult> {
  // Parameters and provenance are captured together, right after the sync, so they describe the same values.
  let provenance = state.provenance();
  const hooks: { -readonly [K in keyof RunHooks]: RunHooks[K] } = {};
  if (options.abortSignal) hooks.abortSignal = options.abortSignal;
  if (options.onDelta) hooks.onDelta = options.onDelta;
  // Without syncs between steps, every step runs with the parameters the execution started with.
  if (isMultiStep(module) && (options.syncBetweenSteps ?? options.autoSync !== false)) {
    // What a later step can change is reported as of that step; the rest as the run started (see STEP_ATTRIBUTES).
    const started = new Map(state.versions);
    const refused = options.onSyncFailed;
    const told = options.onStepSynced;
    hooks.beforeStep = async () => {
      // Only what a step can change: the rest is the run's, applied (and reported, and its callbacks called) by
      // the next execution's sync, the first to send it.
      await syncReported(module, state, refused, STEP_ATTRIBUTES, told);
      provenance = state.provenanceSince(started, STEP_ATTRIBUTES);
      return snapshotParameters(module);
    };
  }
  // The module itself as the parameters: they are read before executeModule returns, so no copy is needed.
  hooks.provenance = () => provenance;
  return executeModule(module, values, module, hooks);
}

/**
 * Syncs `module`'s bindings before an execution or one of its steps, which goes on with the last good values if
 * the sync fails: the failure is reported (to the module's handler, then to the execution's `refused`), not
 * swallowed; what a sync changed is told to `told`, if any. A promise only when the sync could not finish at once
 * (an await, even of a settled promise, costs every execution its microtasks).
 */
function syncReported(
  module: ProgramModule,
  state: BindingState,
  refused: ForwardOptions['onSyncFailed'],
  only?: ReadonlySet<string>,
  told?: ForwardOptions['onStepSynced'],
): Promise<unknown> | undefined {
  if (state.bindings.size === 0) return undefined;
  try {
    const synced = state.syncNow(module, module.moduleType, only);
    if (synced instanceof Promise)
      return synced.then(
        (changes) => tellChanges(changes, told),
        (error: unknown) => reportRefused(module, state, error, refused),
      );
    tellChanges(synced, told);
  } catch (error) {
    reportRefused(module, state, error, refused);
  }
  return undefined;
}

/** Tells `told` of `changes` when there are any: a step's sync that changed nothing is not worth an event. */
function tellChanges(changes: SyncChanges, told: ForwardOptions['onStepSynced']): void {
  if (!told || Object.keys(changes).length === 0) return;
  try {
    told(changes);
  } catch (listenerError) {
    process.emitWarning(`onStepSynced listener threw: ${printable(listenerError)}`, { type: 'TetherSyncWarning' });
  }
}

function reportRefused(
  module: ProgramModule,
  state: BindingState,
  error: unknown,
  refused: ForwardOptions['onSyncFailed'],
): void {
  state.report(error, module.moduleType);
  if (!refused) return;
  try {
    refused(error instanceof Error ? error : new Error(printable(error)));
  } catch (listenerError) {
    process.emitWarning(`onSyncFailed listener threw: ${printable(listenerError)}`, { type: 'TetherSyncWarning' });
  }
}

/**
 * Predict whose attributes follow session variables.
 * @example
 * const m = new VariableAwarePredict('question -> answer', { session })
 * await m.bindToVariable('temperature', 'llm_temperature')
 */
export class VariableAwarePredict extends VariableAwareMixin(Predict) {}

/** ChainOfThought whose attributes follow session variables; one request per forward. */
export class VariableAwareChainOfThought extends VariableAwareMixin(ChainOfThought) {}

/** ChainOfThoughtWithHint whose attributes follow session variables. */
export class VariableAwareChainOfThoughtWithHint extends VariableAwareMixin(ChainOfThoughtWithHint) {}

/** ReAct whose attributes follow session variables, re-read before every step. Refused without tools. */
export class VariableAwareReAct extends VariableAwareMixin(ReAct) {}

/** ProgramOfThought whose attributes follow session variables. */
export class VariableAwareProgramOfThought extends VariableAwareMixin(ProgramOfThought) {}

/** BestOfN whose attributes follow session variables, `n` and `threshold` among them. */
export class VariableAwareBestOfN extends VariableAwareMixin(BestOfN) {}

/** Refine whose attributes follow session variables, `rounds` and `threshold` among them. */
export class VariableAwareRefine extends VariableAwareMixin(Refine) {}

/**
 * MultiChainComparison whose attributes follow session variables, `samples` among them.
 * @example
 * const vote = new VariableAwareMultiChainComparison('question -> answer', { session })
 * await vote.bindToVariable('samples', 'vote_samples') // each execution asks for as many samples as it holds
 */
export class VariableAwareMultiChainComparison extends VariableAwareMixin(MultiChainComparison) {}

checksOptionKeys(
  VariableAwarePredict,
  VariableAwareChainOfThought,
  VariableAwareChainOfThoughtWithHint,
  VariableAwareReAct,
  VariableAwareProgramOfThought,
  VariableAwareBestOfN,
  VariableAwareRefine,
  VariableAwareMultiChainComparison,
);
