/**
 * Picks the module type from a `module` variable. Unlike the original, which cached forever, the cache entry of
 * a variable is dropped on its next write (watchVariables), so switching the variable switches the type.
 * Also the original's convenience, `createVariableAwareModule`: a module of a named type, bound in one call.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertOptionKeys, kindOfBag, optionKeys } from '../option-keys.js';
import type { SessionContext, Unwatch } from '../session/session-context.js';
import {
  ModuleRegistry,
  type RegisteredModule,
  type VariableAwareModule,
  type VariableAwareModuleClass,
  defaultModuleRegistry,
} from './module-registry.js';
import { MODULE_OPTION_KEYS, type ModuleOptions } from './program-module.js';
import type { ModuleClass } from './programs.js';

/** Options of {@link ModuleVariableResolver}. */
export interface ModuleVariableResolverOptions {
  /** Where names are looked up. @default defaultModuleRegistry */
  readonly registry?: ModuleRegistry;
}

/** The keys {@link ModuleVariableResolverOptions} takes. */
const RESOLVER_KEYS = optionKeys<ModuleVariableResolverOptions>({ registry: true });

/**
 * Throws `ValidationError` unless `registry`, when given, is a {@link ModuleRegistry}: anything else would fail at the
 * first resolve, far from the call that gave it.
 */
function assertRegistry(owner: string, registry: unknown): void {
  if (registry === undefined || registry instanceof ModuleRegistry) return;
  throw new ValidationError(`${owner} option 'registry' must be a ModuleRegistry, got ${kindOfBag(registry)}`, {
    details: { option: 'registry', got: kindOfBag(registry) },
  });
}

/** Resolves `module` variables of one session to module types. Call {@link ModuleVariableResolver.close} when done. */
export class ModuleVariableResolver {
  /**
   * Registers a module type in the default registry, for every resolver that does not bring its own.
   * @example
   * ModuleVariableResolver.registerModule('Summarize', Summarize)
   */
  static registerModule(name: string, moduleClass: ModuleClass, variableAwareClass?: VariableAwareModuleClass): void {
    defaultModuleRegistry.register(name, moduleClass, variableAwareClass);
  }

  /** The names in the default registry. */
  static getAvailableModules(): string[] {
    return defaultModuleRegistry.names();
  }

  readonly session: SessionContext;
  readonly registry: ModuleRegistry;
  readonly #cache = new Map<string, RegisteredModule>();
  /** Bumped on every write to a watched variable, so a read that raced a write is not cached. */
  readonly #generations = new Map<string, number>();
  readonly #watches = new Map<string, Promise<Unwatch>>();
  #closed = false;

  constructor(session: SessionContext, options: ModuleVariableResolverOptions = {}) {
    // A misspelt `registry` would resolve against the default registry, without a word.
    assertOptionKeys(options, 'ModuleVariableResolver', RESOLVER_KEYS);
    assertRegistry('ModuleVariableResolver', options.registry);
    this.session = session;
    this.registry = options.registry ?? defaultModuleRegistry;
  }

  /** The names this resolver's registry knows. */
  getAvailableModules(): string[] {
    return this.registry.names();
  }

  /**
   * The module class the variable names; `UnknownModuleError` ("Unknown module type") when no type has that name.
   * @example
   * await session.setVariable('reasoning_module', 'COT')
   * await resolver.resolveModule('reasoning_module') // ChainOfThought
   */
  async resolveModule(variableName: string): Promise<ModuleClass> {
    return (await this.resolveEntry(variableName)).moduleClass;
  }

  /** The registry entry (plain and variable-aware class) the variable names. */
  async resolveEntry(variableName: string): Promise<RegisteredModule> {
    const cached = this.#cache.get(variableName);
    if (cached) return cached;
    // Watch first, read second: a write landing between the two is then seen, never missed.
    await this.#watch(variableName);
    const generation = this.#generations.get(variableName) ?? 0;
    const value = await this.session.getVariable(variableName);
    if (typeof value !== 'string') {
      throw new ValidationError(`variable '${variableName}' holds ${JSON.stringify(value)}, not a module type name`, {
        variable: variableName,
      });
    }
    const entry = this.registry.resolve(value);
    const unchanged = (this.#generations.get(variableName) ?? 0) === generation;
    if (!this.#closed && unchanged) this.#cache.set(variableName, entry);
    return entry;
  }

  /**
   * A variable-aware module of the type the variable names, bound to this resolver's session.
   * @example
   * const m = await resolver.createModule('reasoning_module', 'question -> answer', { temperature: 0.2 })
   */
  async createModule(
    variableName: string,
    signature: string,
    options: ModuleOptions = {},
  ): Promise<VariableAwareModule> {
    const entry = await this.resolveEntry(variableName);
    return new entry.variableAwareClass(signature, { ...options, session: this.session });
  }

  /** Stops the watches and empties the cache; later resolves still work, uncached. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cache.clear();
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    for (const watch of watches) {
      try {
        (await watch)();
      } catch {
        // A watch that failed to start has nothing to stop.
      }
    }
  }

  #watch(variableName: string): Promise<Unwatch> | undefined {
    if (this.#closed) return undefined;
    let watch = this.#watches.get(variableName);
    if (!watch) {
      // Variable names hold no `*`, so the name is a glob matching exactly itself.
      watch = this.session.watchVariables(variableName, (change) => {
        this.#generations.set(change.name, (this.#generations.get(change.name) ?? 0) + 1);
        this.#cache.delete(change.name);
      });
      watch.catch(() => this.#watches.delete(variableName));
      this.#watches.set(variableName, watch);
    }
    return watch;
  }
}

/**
 * Options of {@link createVariableAwareModule}: module options plus the bindings to apply. Any other key is refused
 * with `ValidationError`; so is a `session`, which is the function's first argument.
 */
export interface CreateVariableAwareModuleOptions extends Omit<ModuleOptions, 'session'> {
  /** `{ attribute: variableName }`, bound in order; a missing variable rejects with `VariableNotFoundError`. */
  readonly variableBindings?: Readonly<Record<string, string>>;
  /** Where `type` is looked up. @default defaultModuleRegistry */
  readonly registry?: ModuleRegistry;
}

/** The keys {@link CreateVariableAwareModuleOptions} takes: a module's but its session, and its own two. */
const CREATE_KEYS: readonly string[] = Object.freeze([
  ...MODULE_OPTION_KEYS.filter((key) => key !== 'session'),
  'variableBindings',
  'registry',
]);

/**
 * A variable-aware module of `type` (any case, aliases `COT`/`PoT`) on `session`, with its bindings applied.
 * @example
 * const m = await createVariableAwareModule(session, 'ChainOfThought', 'question -> answer', {
 *   variableBindings: { temperature: 'llm_temperature', maxTokens: 'max_tokens' },
 * })
 */
export async function createVariableAwareModule(
  session: SessionContext,
  type: string,
  signature: string,
  options: CreateVariableAwareModuleOptions = {},
): Promise<VariableAwareModule> {
  // Its own keys, named as its own: passed on, a misspelt one would be refused as the module class's, naming neither
  // `variableBindings` nor `registry`, and a `session` would be silently replaced by the one given first.
  assertOptionKeys(options, 'createVariableAwareModule', CREATE_KEYS);
  assertRegistry('createVariableAwareModule', options.registry);
  const { variableBindings = {}, registry = defaultModuleRegistry, ...moduleOptions } = options;
  const entry = registry.resolve(type);
  const module = new entry.variableAwareClass(signature, { ...moduleOptions, session });
  for (const [attribute, variableName] of Object.entries(variableBindings)) {
    await module.bindToVariable(attribute, variableName);
  }
  return module;
}
