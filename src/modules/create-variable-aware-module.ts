/**
 * The convenience of the original design: build a variable-aware module of a named type and bind it in one call.
 * @module
 */
import type { SessionContext } from '../session/session-context.js';
import { type ModuleRegistry, type VariableAwareModule, defaultModuleRegistry } from './module-registry.js';
import type { ModuleOptions } from './program-module.js';

/** Options of {@link createVariableAwareModule}: module options plus the bindings to apply. */
export interface CreateVariableAwareModuleOptions extends Omit<ModuleOptions, 'session'> {
  /** `{ attribute: variableName }`, bound in order; a missing variable rejects with `VariableNotFoundError`. */
  readonly variableBindings?: Readonly<Record<string, string>>;
  /** Where `type` is looked up. @default defaultModuleRegistry */
  readonly registry?: ModuleRegistry;
}

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
  const { variableBindings = {}, registry = defaultModuleRegistry, ...moduleOptions } = options;
  const entry = registry.resolve(type);
  const module = new entry.variableAwareClass(signature, { ...moduleOptions, session });
  for (const [attribute, variableName] of Object.entries(variableBindings)) {
    await module.bindToVariable(attribute, variableName);
  }
  return module;
}
