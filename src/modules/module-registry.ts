/**
 * The module types by name: case-insensitive, with the aliases `COT` and `PoT`. An instance per use is possible
 * (tests build their own); `defaultModuleRegistry` is the one `ModuleVariableResolver.registerModule` writes to.
 * @module
 */
import { AlreadyExistsError, UnknownModuleError, ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import { normalizeModuleName } from './module-name.js';
import type { ModuleOptions, ProgramModule } from './program-module.js';
import {
  BestOfN,
  ChainOfThought,
  ChainOfThoughtWithHint,
  type ModuleClass,
  type ModuleNeed,
  type TypeSetting,
  MultiChainComparison,
  Predict,
  ProgramOfThought,
  ReAct,
  Refine,
} from './programs.js';
import { type VariableAware, VariableAwareMixin } from './variable-aware-mixin.js';
import {
  VariableAwareBestOfN,
  VariableAwareChainOfThought,
  VariableAwareChainOfThoughtWithHint,
  VariableAwareMultiChainComparison,
  VariableAwarePredict,
  VariableAwareProgramOfThought,
  VariableAwareReAct,
  VariableAwareRefine,
} from './variable-aware-mixin.js';

/** A module instance that follows session variables. */
export type VariableAwareModule = ProgramModule & VariableAware;

/** A class building {@link VariableAwareModule}s from `(signature, options)`. */
export type VariableAwareModuleClass = new (signature: string, options?: ModuleOptions) => VariableAwareModule;

/** One registered module type. */
export interface RegisteredModule {
  /** The name as registered (`ChainOfThought`), whatever spelling found it. */
  readonly name: string;
  readonly moduleClass: ModuleClass;
  readonly variableAwareClass: VariableAwareModuleClass;
  /** What the type cannot be built without, from its class's static `needs` (BestOfN a reward, ReAct tools). */
  readonly needs: readonly ModuleNeed[];
  /**
   * The type settings it reads, from its class's own static `uses`; `undefined` for a class that declares none of its
   * own (a user's, even one extending a built-in), whose settings are not judged.
   */
  readonly uses: readonly TypeSetting[] | undefined;
}

/** What of a module's spec decides whether a type's {@link RegisteredModule.needs} are met. */
export interface NeedsSource {
  readonly reward?: unknown;
  readonly tools?: readonly unknown[];
}

/**
 * The first of `entry`'s needs that `spec` does not meet, or `undefined`: a type variable that names such a type
 * cannot switch the module to it (the variable names a type, and brings no reward nor tools).
 */
export function unmetNeed(entry: RegisteredModule, spec: NeedsSource): ModuleNeed | undefined {
  return entry.needs.find((need) => (need === 'reward' ? spec.reward === undefined : (spec.tools ?? []).length === 0));
}

/** Module types by name. */
export class ModuleRegistry {
  readonly #entries = new Map<string, RegisteredModule>();
  readonly #aliases = new Map<string, string>();

  /** A registry holding the eight built-in types and the aliases `COT` and `PoT`. */
  static withBuiltins(): ModuleRegistry {
    const registry = new ModuleRegistry();
    registry.register('Predict', Predict, VariableAwarePredict);
    registry.register('ChainOfThought', ChainOfThought, VariableAwareChainOfThought);
    registry.register('ChainOfThoughtWithHint', ChainOfThoughtWithHint, VariableAwareChainOfThoughtWithHint);
    registry.register('ReAct', ReAct, VariableAwareReAct);
    registry.register('ProgramOfThought', ProgramOfThought, VariableAwareProgramOfThought);
    registry.register('BestOfN', BestOfN, VariableAwareBestOfN);
    registry.register('Refine', Refine, VariableAwareRefine);
    registry.register('MultiChainComparison', MultiChainComparison, VariableAwareMultiChainComparison);
    registry.alias('COT', 'ChainOfThought');
    registry.alias('PoT', 'ProgramOfThought');
    return registry;
  }

  /**
   * Registers (or replaces) a module type. Without `variableAwareClass`, the mixin is applied to `moduleClass`.
   * @example
   * registry.register('Summarize', Summarize)
   */
  register(name: string, moduleClass: ModuleClass, variableAwareClass?: VariableAwareModuleClass): RegisteredModule {
    const key = namedKey(name);
    for (const [what, given] of [
      ['moduleClass', moduleClass],
      ['variableAwareClass', variableAwareClass ?? moduleClass],
    ] as const) {
      if (typeof given !== 'function')
        throw new ValidationError(`register('${name}'): ${what} must be a class, got ${show(given)}`, {
          details: { field: what },
        });
    }
    if (this.#aliases.has(key)) throw new AlreadyExistsError('module alias', name);
    const entry: RegisteredModule = {
      name,
      moduleClass,
      variableAwareClass:
        variableAwareClass ?? (VariableAwareMixin(moduleClass) as unknown as VariableAwareModuleClass),
      needs: [...(moduleClass.needs ?? [])],
      uses: Object.hasOwn(moduleClass, 'uses') ? moduleClass.uses : undefined,
    };
    this.#entries.set(key, entry);
    return entry;
  }

  /** Makes `alias` another name of the registered `target`. */
  alias(alias: string, target: string): void {
    const key = namedKey(alias);
    if (this.#entries.has(key)) throw new AlreadyExistsError('module type', alias);
    this.#aliases.set(key, this.resolve(target).name);
  }

  /** The type registered under `name` (any case, aliases included); `UnknownModuleError` otherwise. */
  resolve(name: string): RegisteredModule {
    let key = normalizeModuleName(name);
    const aliased = this.#aliases.get(key);
    if (aliased !== undefined) key = normalizeModuleName(aliased);
    const entry = this.#entries.get(key);
    if (!entry) throw new UnknownModuleError(name, this.names());
    return entry;
  }

  /** Whether `name` resolves. */
  has(name: string): boolean {
    const key = normalizeModuleName(name);
    return this.#entries.has(key) || this.#aliases.has(key);
  }

  /** The registered names as registered, in registration order (aliases not included). */
  names(): string[] {
    return [...this.#entries.values()].map((entry) => entry.name);
  }

  /**
   * The registered names a type variable can select for a module whose spec is `spec`: those whose needs it meets
   * (see {@link unmetNeed}), in registration order. Without a reward in the spec (never one over NATS) that leaves
   * out BestOfN and Refine; without tools, ReAct.
   * @example
   * registry.selectable({});
   * // ['Predict', 'ChainOfThought', 'ChainOfThoughtWithHint', 'ProgramOfThought', 'MultiChainComparison']
   */
  selectable(spec: NeedsSource): string[] {
    return [...this.#entries.values()].filter((entry) => !unmetNeed(entry, spec)).map((entry) => entry.name);
  }
}

/**
 * The key of a name given to `register` or `alias`. A name of nothing but '_' and '-' (or empty) is the empty key,
 * which a spec's `type: ''` would select: refused for either.
 */
function namedKey(name: string): string {
  const key = normalizeModuleName(name);
  if (!key) throw new ValidationError(`module name '${name}' has no character other than '_' and '-'`);
  return key;
}

/** The registry used when none is given; `ModuleVariableResolver.registerModule` writes here. */
export const defaultModuleRegistry: ModuleRegistry = ModuleRegistry.withBuiltins();
