/**
 * The program behind a module process: a variable-aware module built from a spec, re-synced before each
 * execution. When the spec's type comes from a `module` variable, a change of that variable swaps the program
 * at the next sync for one of the new type, with the same signature, options, bindings and callbacks, so the
 * module keeps its identity.
 * @module
 */
import type { SessionContext, VersionedValue } from '../session/session-context.js';
import type { ExecutionResult, SyncOutcome } from '../../machines/module.machine.js';
import { ValidationError, VariableNotFoundError } from '../errors.js';
import {
  defaultModuleRegistry,
  type ModuleRegistry,
  type RegisteredModule,
  type VariableAwareModule,
} from './module-registry.js';
import { bindingStateOf } from './binding-state.js';
import { bindingVariable, resolveTools, type ModuleSpec, type ResolvedModuleSpec } from './module-spec.js';
import { inputProblem, type ModuleOptions } from './program-module.js';
import type { LanguageModel } from './language-model.js';
import type { ModuleTool } from './module-types.js';
import { namingModule } from './provider-errors.js';

/** What a module instance is built with besides its spec. */
export interface ModuleInstanceOptions {
  readonly registry?: ModuleRegistry;
  /** The LLM; by default the one the environment configures, else the offline `tether-echo`. */
  readonly llm?: LanguageModel;
  /** The tools that tool names in a spec refer to (the runtime's `tools` option). @default none */
  readonly tools?: ReadonlyMap<string, ModuleTool>;
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
    entry: RegisteredModule,
    module: VariableAwareModule,
    typeVersion: number | undefined,
  ) {
    this.#entry = entry;
    this.#module = module;
    this.#typeVersion = typeVersion;
  }

  /**
   * Builds the module now, so that a bad spec (unknown type, ReAct without tools, a missing bound variable)
   * is refused at creation rather than at the first execution.
   */
  static async create(
    moduleId: string,
    session: SessionContext,
    given: ModuleSpec,
    options: ModuleInstanceOptions = {},
  ): Promise<ModuleInstance> {
    // Tool names are resolved once, here: a program swap rebuilds from the resolved spec with the same tools.
    const spec = resolveTools(given, options.tools ?? new Map());
    const registry = options.registry ?? defaultModuleRegistry;
    const { entry, version } = await resolveType(session, spec, registry);
    const module = await build(entry, session, spec, options.llm);
    return new ModuleInstance(moduleId, session, spec, registry, options.llm, entry, module, version);
  }

  /**
   * The registered name of the type `spec` would run in `session` now (its type variable read), without building
   * its program: what a node that has no process of the module says of it.
   */
  static async typeOf(
    session: SessionContext,
    spec: ModuleSpec,
    registry: ModuleRegistry = defaultModuleRegistry,
  ): Promise<string> {
    return (await resolveType(session, spec, registry)).entry.name;
  }

  /** The registered name of the current program's type. */
  get moduleType(): string {
    return this.#entry.name;
  }

  /** Re-reads the type variable (swapping the program when it names another type) and every bound variable. */
  async sync(): Promise<SyncOutcome> {
    // The current program syncs first, so callbacks see each change from the value this module last used,
    // even when the program is then replaced by one of another type.
    const changes = await this.#program().syncVariables();
    const before = this.#entry;
    if (this.spec.typeVariable !== undefined) {
      const { entry, version } = await resolveType(this.session, this.spec, this.registry);
      if (entry !== this.#entry) {
        // Built completely before it replaces the old one: a failed swap leaves the module as it was.
        this.#module = await build(entry, this.session, this.spec, this.llm);
        this.#entry = entry;
      }
      this.#typeVersion = version;
    }
    return { moduleType: this.#entry.name, changes, ...(before !== this.#entry ? { swappedFrom: before.name } : {}) };
  }

  /**
   * What is wrong with `inputs` for the current program's signature, or `undefined`. A later sync may swap the
   * program for a type with other inputs (ChainOfThoughtWithHint's `hint`); the execution checks them again.
   */
  inputProblem(inputs: Readonly<Record<string, unknown>>): ValidationError | undefined {
    return inputProblem(this.#program(), inputs);
  }

  /**
   * Lets the program go, keeping what rebuilds it: the spec, the current type and what each bound attribute
   * holds. For an idle module (nothing may be running on it).
   */
  hibernate(): void {
    if (!this.#module) return;
    this.#asleep = bindingStateOf(this.#module).reads();
    this.#module = undefined;
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
    const state = bindingStateOf(module);
    for (const [attribute, binding] of Object.entries(this.spec.bindings ?? {})) {
      const read = this.#asleep?.[attribute];
      if (read === undefined) continue;
      // Checked when it was first read; set as `bindToVariable` sets it.
      (module as unknown as Record<string, unknown>)[attribute] = read.value;
      state.bind(
        attribute,
        {
          variableName: bindingVariable(binding),
          callback: typeof binding === 'string' ? undefined : binding.onChange,
        },
        read,
      );
    }
    this.#module = module;
    this.#asleep = undefined;
    return module;
  }

  /**
   * Runs one execution with the values of the last sync; between the steps of ReAct, bindings are re-read, and
   * `onSyncFailed` is told of each of those syncs that was refused (the step then runs with the last good values).
   */
  async execute(
    inputs: Readonly<Record<string, unknown>>,
    signal: AbortSignal,
    onDelta?: (field: string, delta: string) => void,
    onSyncFailed?: (error: Error) => void,
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
        },
      );
    } catch (error) {
      throw namingModule(error, this.moduleId);
    }
    const provenance =
      this.spec.typeVariable !== undefined && this.#typeVersion !== undefined
        ? { ...outcome.provenance, [this.spec.typeVariable]: this.#typeVersion }
        : outcome.provenance;
    return {
      moduleType: this.#entry.name,
      output: outcome.output,
      provenance,
      ...(outcome.reasoning !== undefined ? { reasoning: outcome.reasoning } : {}),
    };
  }
}

async function resolveType(
  session: SessionContext,
  spec: Pick<ResolvedModuleSpec, 'type' | 'typeVariable'>,
  registry: ModuleRegistry,
): Promise<{ entry: RegisteredModule; version: number | undefined }> {
  if (spec.typeVariable === undefined) return { entry: registry.resolve(spec.type as string), version: undefined };
  const snapshot = await session.readVariables([spec.typeVariable]);
  const read = snapshot.found[spec.typeVariable];
  // As a bound variable that is missing is refused: the same code for either kind of binding.
  if (!read) throw new VariableNotFoundError(session.sessionId, spec.typeVariable);
  if (typeof read.value !== 'string')
    throw new ValidationError(`variable '${spec.typeVariable}' does not hold a module type name`, {
      variable: spec.typeVariable,
    });
  return { entry: registry.resolve(read.value), version: read.version };
}

async function build(
  entry: RegisteredModule,
  session: SessionContext,
  spec: ResolvedModuleSpec,
  llm: LanguageModel | undefined,
): Promise<VariableAwareModule> {
  const module = construct(entry, session, spec, llm);
  const { bindings = {} } = spec;
  for (const [attribute, binding] of Object.entries(bindings)) {
    await module.bindToVariable(
      attribute,
      bindingVariable(binding),
      typeof binding === 'string' ? undefined : binding.onChange,
    );
  }
  return module;
}

/** The program of `entry`'s type for `spec`, before any binding. */
function construct(
  entry: RegisteredModule,
  session: SessionContext,
  spec: ResolvedModuleSpec,
  llm: LanguageModel | undefined,
): VariableAwareModule {
  const { type: _type, typeVariable: _typeVariable, signature, bindings: _bindings, ...rest } = spec;
  const options: ModuleOptions = { ...rest, session, ...(llm ? { llm } : {}) };
  return new entry.variableAwareClass(signature, options);
}
