/**
 * The program behind a module process: a variable-aware module built from a spec, re-synced before each
 * execution. When the spec's type comes from a `module` variable, a change of that variable swaps the program
 * at the next sync for one of the new type, with the same signature, options, bindings and callbacks, so the
 * module keeps its identity.
 * @module
 */
import type { SessionContext, VariableSnapshot, VersionedValue } from '../session/session-context.js';
import { foundIn } from '../session/variable-reads.js';
import type { ExecutionResult, SyncOutcome } from '../../machines/module.machine.js';
import type { ValidationError } from '../errors.js';
import {
  defaultModuleRegistry,
  type ModuleRegistry,
  type RegisteredModule,
  type VariableAwareModule,
} from './module-registry.js';
import { bindingStateOf, checkBoundValue } from './binding-state.js';
import { bindingVariable, resolveTools, type ModuleSpec, type ResolvedModuleSpec } from './module-spec.js';
import { inputProblem } from './program-module.js';
import { probeInputCheck, type ExecuteInputCheck } from './input-probe.js';
import type { LanguageModel } from './language-model.js';
import type { DeltaListener, ModuleTool } from './module-types.js';
import {
  bindFrom,
  checkSelectable,
  construct,
  constructHeld,
  readBound,
  rebind,
  typeIn,
} from './module-program-build.js';
import { namingModule } from './provider-errors.js';
import { axServiceOf } from './ax-bridge.js';
import { thinkingBudgetRefusal } from './thinking-support.js';
import { deepFreeze } from '../variables/json-value.js';

/** What a module instance is built with besides its spec. */
export interface ModuleInstanceOptions {
  readonly registry?: ModuleRegistry;
  /** The LLM; by default the one the environment configures, else the offline `tether-echo`. */
  readonly llm?: LanguageModel;
  /** The tools that tool names in a spec refer to (the runtime's `tools` option). @default none */
  readonly tools?: ReadonlyMap<string, ModuleTool>;
  /**
   * Told when a binding's `onChange` callback throws (its attribute has taken the new value all the same), instead
   * of the process warning a module of its own gives. @default a process warning
   */
  readonly onCallbackError?: (error: unknown, attribute: string) => void;
}

/**
 * One module of a session, with its current program. An idle module's program can be let go
 * ({@link ModuleInstance.hibernate}) and rebuilt on next use, the same as it was: same type, same bound values.
 */
export class ModuleInstance {
  #entry: RegisteredModule;
  /** Absent while hibernating: the program (its Ax programs and their prompts) is what hibernation frees. */
  #module: VariableAwareModule | undefined;
  /** While hibernating, what each bound attribute held, to rebuild the program with. */
  #asleep: Readonly<Record<string, VersionedValue>> | undefined;
  /** The type variable's version at the last sync, for provenance. */
  #typeVersion: number | undefined;
  /** The identity of the type variable that version is of (see VersionedValue.id), when the session says. */
  #typeId: string | undefined;
  /**
   * The identity of the type variable under its name at the last read, applied or refused: one deleted and defined
   * again since the type was applied makes {@link ModuleInstance.#typeVersion} a version of another variable.
   */
  #heldTypeId: string | undefined;
  /** Input checks of other types than the program's (see {@link inputProblemNow}), by type. */
  readonly #probes = new Map<RegisteredModule, ExecuteInputCheck>();
  /**
   * Whether an execution's deltas have a listener (set by the module's entry from its handle's listeners); without
   * one the program does not stream. Streaming is not free of effects: Ax's streamed parsing can take a label the
   * model put first into the answer ("Reasoning: r\nAnswer: ok" gives "Reasoning: rok"), which a whole reply avoids.
   */
  wantsDeltas: () => boolean = () => true;

  private constructor(
    readonly moduleId: string,
    readonly session: SessionContext,
    readonly spec: ResolvedModuleSpec,
    private readonly registry: ModuleRegistry,
    private readonly llm: LanguageModel | undefined,
    private readonly onCallbackError: ModuleInstanceOptions['onCallbackError'],
    entry: RegisteredModule,
    module: VariableAwareModule,
    typeRead: { readonly version: number | undefined; readonly id: string | undefined },
  ) {
    this.#entry = entry;
    this.#module = module;
    this.#typeVersion = typeRead.version;
    this.#typeId = this.#heldTypeId = typeRead.id;
  }

  /**
   * Builds the module now, from one snapshot of its type variable and bound variables, so that a bad spec
   * (unknown type, ReAct without tools, a missing bound variable, a bound value its attribute cannot take) is
   * refused at creation rather than at the first execution.
   */
  static create(
    moduleId: string,
    session: SessionContext,
    given: ModuleSpec,
    options: ModuleInstanceOptions = {},
  ): Promise<ModuleInstance> {
    return ModuleInstance.#make(moduleId, session, given, options, false);
  }

  /**
   * Builds a module that was created before (on this node or another) from its stored spec. It must answer as a
   * running process of it would, whatever node wakes it: a bound variable that is missing or holds a value its
   * attribute cannot take does not refuse the wake, as a running module's sync is not refused for it. That
   * attribute starts from the spec's own value (the spec records no other), and the first sync reports the
   * refusal (`syncFailed`) until the variable holds a value it can take. The type variable has no such fallback
   * (a spec has a type or a type variable, not both): one that is missing or names no type refuses the wake.
   */
  static wake(
    moduleId: string,
    session: SessionContext,
    stored: ModuleSpec,
    options: ModuleInstanceOptions = {},
  ): Promise<ModuleInstance> {
    return ModuleInstance.#make(moduleId, session, stored, options, true);
  }

  static async #make(
    moduleId: string,
    session: SessionContext,
    given: ModuleSpec,
    options: ModuleInstanceOptions,
    woken: boolean,
  ): Promise<ModuleInstance> {
    // Tool names are resolved once, here: a program swap rebuilds from the resolved spec with the same tools.
    const spec = resolveTools(
      given,
      options.tools ?? new Map(),
      woken ? { moduleId, sessionId: session.sessionId } : undefined,
    );
    const registry = options.registry ?? defaultModuleRegistry;
    const snapshot = await readBound(session, spec);
    const typeRead = typeIn(session, spec, snapshot, registry);
    const { entry } = typeRead;
    const module =
      spec.typeVariable === undefined
        ? construct(entry, session, spec, options.llm)
        : constructHeld(entry, session, spec, options.llm, spec.typeVariable, registry);
    bindFrom(module, session, spec, snapshot, woken, options.onCallbackError);
    // A thinking level its model cannot take would fail every execution: a module so created is refused now.
    const { llm, model, thinkingTokenBudget } = module;
    const refused = woken ? undefined : thinkingBudgetRefusal(llm, axServiceOf(llm), model, thinkingTokenBudget);
    if (refused) throw refused;
    return new ModuleInstance(
      moduleId,
      session,
      spec,
      registry,
      options.llm,
      options.onCallbackError,
      entry,
      module,
      typeRead,
    );
  }

  /**
   * The registered name of the type `spec` would run in `session` now (its type variable read), without building
   * its program: what a node that has no process of the module says of it. Refused as a wake would be: a type
   * variable that is missing, names no type, or names one the spec lacks a need of.
   */
  static async typeOf(
    session: SessionContext,
    spec: ModuleSpec,
    registry: ModuleRegistry = defaultModuleRegistry,
  ): Promise<string> {
    const variable = spec.typeVariable;
    const read = variable === undefined ? undefined : await session.readVariables([variable]);
    const { entry } = typeIn(session, spec, read, registry);
    // A type it cannot be built as (ReAct without tools) is refused as a wake here would refuse it.
    if (variable !== undefined) checkSelectable(entry, spec, variable, registry);
    return entry.name;
  }

  /** The registered name of the current program's type. */
  get moduleType(): string {
    return this.#entry.name;
  }

  /**
   * Re-reads the type variable (swapping the program when it names another type) and every bound variable, in
   * one snapshot, and applies all of it or nothing: a type that is unknown or cannot be built refuses the bound
   * values too, and a bound value refused keeps the type, so a module never runs on half of a change.
   */
  async sync(): Promise<SyncOutcome> {
    const program = this.#program();
    const typeVariable = this.spec.typeVariable;
    if (typeVariable === undefined) return { moduleType: this.#entry.name, changes: await program.syncVariables() };
    const state = bindingStateOf(program);
    const snapshot = await readBound(this.session, this.spec);
    // Noted before anything can refuse the sync, as a binding notes its variable's (see BindingState).
    const heldId = foundIn(snapshot, typeVariable)?.id;
    if (heldId !== undefined) this.#heldTypeId = heldId;
    const { entry, version, id } = typeIn(this.session, this.spec, snapshot, this.registry);
    const apply = state.check(snapshot, program);
    const before = this.#entry;
    // Built before anything is applied: a type that cannot be built (ReAct without tools) refuses the whole sync.
    const next =
      entry === before
        ? undefined
        : constructHeld(entry, this.session, this.spec, this.llm, typeVariable, this.registry);
    // Bound examples fit the old program's signature; the new one (ChainOfThought's `reasoning` gone) judges them too.
    if (next) checkHeldExamples(next, this.spec, snapshot);
    // The current program takes the values first, so callbacks see each change from the value this module last
    // used; a new program then starts from what it holds.
    const applied = apply(program, entry.name);
    if (next) {
      rebind(next, this.spec, state.reads(), this.onCallbackError);
      this.#module = next;
      this.#entry = entry;
    }
    this.#typeVersion = version;
    this.#typeId = id;
    const changes = await applied;
    return { moduleType: entry.name, changes, ...(next ? { swappedFrom: before.name } : {}) };
  }

  /**
   * What is wrong with `inputs` for the current program's signature, or `undefined`. A later sync may swap the
   * program for a type with other inputs (ChainOfThoughtWithHint's `hint`); the execution checks them again.
   */
  inputProblem(inputs: Readonly<Record<string, unknown>>): ValidationError | undefined {
    return inputProblem(this.#program(), inputs);
  }

  /**
   * {@link inputProblem} for the program an execution queued now will run: a module whose type variable names another
   * type than its program's swaps to it at the execution's sync, and takes that type's inputs. Without a type variable,
   * at once, with no read.
   */
  inputProblemNow(
    inputs: Readonly<Record<string, unknown>>,
  ): ValidationError | undefined | Promise<ValidationError | undefined> {
    if (this.spec.typeVariable === undefined) return this.inputProblem(inputs);
    return this.#typeNamedNow().then((entry) =>
      entry === undefined || entry === this.#entry ? this.inputProblem(inputs) : this.#probeOf(entry)(inputs),
    );
  }

  /** The type the type variable names now; `undefined` when it names none (the execution's sync says why). */
  async #typeNamedNow(): Promise<RegisteredModule | undefined> {
    try {
      const read = await this.session.readVariables([this.spec.typeVariable!]);
      return typeIn(this.session, this.spec, read, this.registry).entry;
    } catch {
      return undefined;
    }
  }

  /** The input check of type `entry` for this module's signature, built once per type. */
  #probeOf(entry: RegisteredModule): ExecuteInputCheck {
    let probe = this.#probes.get(entry);
    if (!probe) this.#probes.set(entry, (probe = probeInputCheck(entry.moduleClass, this.spec.signature)));
    return probe;
  }

  /**
   * Lets the program go, keeping what rebuilds it: the spec, the current type and what each bound attribute
   * holds. For an idle module (nothing may be running on it).
   */
  hibernate(): void {
    if (!this.#module) return;
    this.#asleep = bindingStateOf(this.#module).reads();
    this.#module = undefined;
    // Programs too, if only for checking inputs: what hibernation frees.
    this.#probes.clear();
  }

  /**
   * Rebuilds a hibernating module's program as it was, without reading the session: the next sync reads the
   * variables, so a change made meanwhile (a bound value, the type variable) is reported by that sync and its
   * callbacks are called, as if the program had been there all along.
   */
  resume(): void {
    this.#program();
  }

  #program(): VariableAwareModule {
    if (this.#module) return this.#module;
    const module = construct(this.#entry, this.session, this.spec, this.llm);
    if (this.#asleep) rebind(module, this.spec, this.#asleep, this.onCallbackError);
    this.#module = module;
    this.#asleep = undefined;
    return module;
  }

  /**
   * Runs one execution with the values of the last sync; between the steps of ReAct, bindings are re-read,
   * `onSyncFailed` is told of each of those syncs that was refused (the step then runs with the last good values),
   * and `onStepSynced` of each that changed a value, as the sync before an execution is reported.
   */
  async execute(
    inputs: Readonly<Record<string, unknown>>,
    signal: AbortSignal,
    onDelta?: DeltaListener,
    onSyncFailed?: (error: Error) => void,
    onStepSynced?: (outcome: SyncOutcome) => void,
  ): Promise<Omit<ExecutionResult, 'executionId' | 'moduleId'>> {
    let outcome: Awaited<ReturnType<VariableAwareModule['forward']>>;
    try {
      outcome = await this.#program().forward(
        { ...inputs },
        {
          autoSync: false,
          syncBetweenSteps: true,
          abortSignal: signal,
          ...(onDelta && this.wantsDeltas() ? { onDelta } : {}),
          ...(onSyncFailed ? { onSyncFailed } : {}),
          // The program cannot swap mid-run: its type is the one the execution started with.
          ...(onStepSynced
            ? { onStepSynced: (changes) => onStepSynced({ moduleType: this.#entry.name, changes }) }
            : {}),
        },
      );
    } catch (error) {
      throw namingModule(error, this.moduleId, this.#module?.model ?? this.llm?.defaultModel);
    }
    // Frozen as the bindings' own provenance is (they share one between executions): with a type variable or without,
    // a caller gets the same kind of object.
    // The type variable's version is left out, as a binding's is, while the program runs a type of a variable since
    // deleted and defined again: under the name, that version would be the new variable's, another value.
    const provenance =
      this.spec.typeVariable !== undefined && this.#typeVersion !== undefined && this.#heldTypeId === this.#typeId
        ? Object.freeze({ ...outcome.provenance, [this.spec.typeVariable]: this.#typeVersion })
        : outcome.provenance;
    return {
      moduleType: this.#entry.name,
      model: outcome.model,
      // Frozen: the caller and every `module.result` listener get the same output, and none may change another's.
      output: deepFreeze(outcome.output),
      provenance,
      ...(outcome.reasoning !== undefined ? { reasoning: outcome.reasoning } : {}),
      // Frozen as the output is: shared by the caller and every listener.
      ...(outcome.usage !== undefined ? { usage: Object.freeze(outcome.usage) } : {}),
    };
  }
}

/** Throws unless `program`, a new type's, can take the examples `snapshot` reads for the binding of `spec`. */
function checkHeldExamples(program: object, spec: ResolvedModuleSpec, snapshot: VariableSnapshot): void {
  const binding = spec.bindings?.examples;
  if (binding === undefined) return;
  const variable = bindingVariable(binding);
  const read = foundIn(snapshot, variable);
  if (read) checkBoundValue('examples', variable, read.value, program);
}
