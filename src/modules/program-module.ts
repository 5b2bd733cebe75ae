/**
 * The base of every module: a signature, an LLM, the parameters sent with each call, and one Ax program shape
 * whose own parameters (BestOfN's `n`, …) are also read at each call. Not variable-aware by itself;
 * `VariableAwareMixin` adds the bindings.
 * @module
 */
import { ValidationError } from '../errors.js';
import {
  assertBooleanOption,
  assertFunctionOption,
  assertOptionBag,
  assertOptionKeys,
  kindOfBag,
  optionKeys,
} from '../option-keys.js';
import type { SessionContext } from '../session/session-context.js';
import { AxProgramRunner, type ProgramKind, type ProgramSettings, type RunHooks } from './ax-program-runner.js';
import { type LanguageModel, languageModelFromEnv } from './language-model.js';
import {
  BINDABLE_ATTRIBUTES,
  PROGRAM_PARAMETERS,
  type ExecutionParameters,
  type FieldValues,
  type ForwardOptions,
  type ModuleParameters,
  type ModuleResult,
  type ProgramParameters,
  type SyncErrorHandler,
  checkParameterValue,
  snapshotParameters,
} from './module-types.js';

/**
 * Everything a module constructor accepts; the kind-specific settings are ignored by kinds that do not use them. The
 * library's classes refuse any other key with `ValidationError` naming the class and the key, as it fails to compile;
 * a subclass of the user's may take options of its own.
 */
export interface ModuleOptions extends ProgramSettings, ModuleParameters {
  /** The LLM; by default the one the environment configures (`TETHER_AI…`), else the offline `tether-echo`. */
  readonly llm?: LanguageModel;
  /** The session whose variables a variable-aware module follows. Held weakly. */
  readonly session?: SessionContext;
  /** Where a variable-aware module reports a failed sync. By default a process warning. */
  readonly onSyncError?: SyncErrorHandler;
}

/** The keys {@link ModuleOptions} takes; any other is refused, as the type refuses it at compile time. */
export const MODULE_OPTION_KEYS = optionKeys<ModuleOptions>({
  llm: true,
  session: true,
  onSyncError: true,
  tools: true,
  reward: true,
  pick: true,
  n: true,
  rounds: true,
  samples: true,
  threshold: true,
  temperature: true,
  maxTokens: true,
  topP: true,
  topK: true,
  presencePenalty: true,
  frequencyPenalty: true,
  stopSequences: true,
  model: true,
  thinkingTokenBudget: true,
  maxRetries: true,
  maxSteps: true,
  instructions: true,
  examples: true,
});

/** The library's own module classes (see {@link checksOptionKeys}). */
const OWN_CLASSES = new WeakSet<object>();

/**
 * @internal Marks `classes` as the library's own: constructed directly, they refuse an option key {@link ModuleOptions}
 * does not name (a subclass of the user's is not marked, and may take options of its own).
 */
export function checksOptionKeys(...classes: (new (...args: never[]) => ProgramModule)[]): void {
  for (const moduleClass of classes) OWN_CLASSES.add(moduleClass);
}

/** The keys {@link ForwardOptions} takes. */
const FORWARD_OPTION_KEYS = optionKeys<ForwardOptions>({
  autoSync: true,
  syncBetweenSteps: true,
  abortSignal: true,
  onDelta: true,
  onSyncFailed: true,
  onStepSynced: true,
});

/**
 * @internal The options of a `forward` given none: one frozen object, which {@link assertForwardOptions} passes at
 * once.
 */
export const NO_FORWARD_OPTIONS: ForwardOptions = Object.freeze({});

/**
 * Throws `ValidationError` for `forward` options its type refuses: an unknown key (a misspelt `autoSync` would sync
 * all the same), options that are no object, a flag that is no boolean, a hook that is no function (it would throw
 * at the first delta or sync, far from the call) or an `abortSignal` that is none (it would cancel nothing).
 * @internal
 */
export function assertForwardOptions(options: ForwardOptions): void {
  // A forward given no options (the usual call, on every execution) has nothing to check.
  if (options === NO_FORWARD_OPTIONS) return;
  assertOptionKeys(options, 'forward', FORWARD_OPTION_KEYS);
  assertBooleanOption('forward', 'autoSync', options.autoSync);
  assertBooleanOption('forward', 'syncBetweenSteps', options.syncBetweenSteps);
  for (const hook of ['onDelta', 'onSyncFailed', 'onStepSynced'] as const)
    assertFunctionOption('forward', hook, options[hook]);
  const { abortSignal } = options;
  if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) {
    throw new ValidationError(`forward option 'abortSignal' must be an AbortSignal, got ${kindOfBag(abortSignal)}`, {
      details: { option: 'abortSignal', got: kindOfBag(abortSignal) },
    });
  }
}

/**
 * The parameter attributes of a module, merged into the class below: one list of them, in `ModuleParameters` and
 * `ProgramParameters`.
 */
export interface ProgramModule extends ModuleParameters, ProgramParameters {}

/**
 * A module: call {@link ProgramModule.forward} with the signature's input fields, get its output fields.
 * Its {@link ModuleParameters} (temperature, maxTokens, model, …) are plain attributes sent with every call; its
 * {@link ProgramParameters} (`n`, `rounds`, `samples`, `threshold`) are plain attributes read at every call.
 */
export abstract class ProgramModule {
  /** The registry name of the module type; each concrete class overrides it. */
  static readonly moduleType: string = 'Module';

  /** The Ax signature string, for example `question:string -> answer:string`. */
  readonly signature: string;
  /** The LLM this module calls. */
  readonly llm: LanguageModel;

  /** Validates the signature and the kind's settings now, so a bad module fails at construction. */
  protected constructor(signature: string, options: ModuleOptions, kind: ProgramKind) {
    // A misspelt option read as absent is a default applied without a word (`temprature`), or no session (`sesion`).
    // Named after the class called (`VariableAwarePredict`), as its caller wrote it. Only the library's own classes
    // refuse a key they do not know: a class of the user's may take options of its own and hand the whole bag on
    // (its options type extending ModuleOptions compiles so), which must not fail here.
    const owner = new.target.name;
    if (OWN_CLASSES.has(new.target)) assertOptionKeys(options, owner, MODULE_OPTION_KEYS);
    else assertOptionBag(options, owner);
    assertFunctionOption(owner, 'onSyncError', options.onSyncError);
    this.signature = signature;
    const runner = new AxProgramRunner(kind, signature, options);
    runner.checkExamples(options.examples);
    runners.set(this, runner);
    this.llm = options.llm ?? languageModelFromEnv();
    for (const attribute of BINDABLE_ATTRIBUTES) {
      const value = options[attribute];
      if (value === undefined) continue;
      checkParameterValue(attribute, value);
      (this as unknown as Record<string, unknown>)[attribute] = value;
    }
    // Already checked by the runner; as attributes they can be changed (or bound) per execution like the others.
    for (const attribute of PROGRAM_PARAMETERS) {
      const value = options[attribute];
      if (value !== undefined) this[attribute] = value;
    }
  }

  /** This instance's registry name (`Predict`, `ChainOfThought`, …). */
  get moduleType(): string {
    return (this.constructor as typeof ProgramModule).moduleType;
  }

  /** The parameters the next execution would run with, as a detached copy. */
  parameters(): ExecutionParameters {
    return snapshotParameters(this);
  }

  /**
   * Runs the program once with the current parameters.
   * @example
   * const { output } = await new Predict('question -> answer').forward({ question: 'Why?' })
   */
  async forward(values: FieldValues, options: ForwardOptions = NO_FORWARD_OPTIONS): Promise<ModuleResult> {
    assertForwardOptions(options);
    const hooks = {
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
      ...(options.onDelta ? { onDelta: options.onDelta } : {}),
    };
    return executeModule(this, values, this.parameters(), hooks);
  }
}

// Outside the class: a protected member would make every mixin class expression undeclarable (TS4094).
const runners = new WeakMap<ProgramModule, AxProgramRunner>();

/**
 * @internal Throws unless `value` can be the few-shot examples of `module`: fields of its program's signature, each
 * with a value Ax takes for it (see module-examples.ts). A binding checks a new value with it before applying it.
 * @throws {ValidationError} naming the example and the field
 */
export function checkModuleExamples(module: object, value: unknown): void {
  runners.get(module as ProgramModule)?.checkExamples(value);
}

/** @internal Whether `module` runs several LLM steps (ReAct), so its parameters are re-read between them. */
export function isMultiStep(module: ProgramModule): boolean {
  return runners.get(module)?.multiStep ?? false;
}

/**
 * @internal What is wrong with `values` as inputs of `module`'s signature, or `undefined`: lets a module process
 * refuse a malformed execution before it waits in the mailbox. `executeModule` checks again. With `only`, the fields
 * named there alone are judged.
 */
export function inputProblem(
  module: ProgramModule,
  values: FieldValues,
  only?: readonly string[],
): ValidationError | undefined {
  return runners.get(module)?.inputProblem(values, only);
}

/**
 * @internal `values` with the `Date`s of `module`'s date-typed fields as its prompt writes them: what a remote handle
 * sends (see dates-as-written.ts).
 */
export function inputsAsWritten(module: ProgramModule, values: FieldValues): FieldValues {
  return runners.get(module)?.inputsAsWritten(values) ?? values;
}

/**
 * @internal One execution of `module` with exactly `params` (read before this returns); the variable-aware
 * layer adds its between-steps hook. Not part of the public surface.
 */
export function executeModule(
  module: ProgramModule,
  values: FieldValues,
  params: ExecutionParameters,
  hooks: RunHooks = {},
): Promise<ModuleResult> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    return Promise.reject(new ValidationError('forward() takes an object of input fields'));
  }
  const runner = runners.get(module);
  if (!runner) return Promise.reject(new ValidationError('module was not constructed through ProgramModule'));
  return runner.run(module.llm, values, params, hooks);
}
