/**
 * How a module instance's program is built from its spec: the one read it is built (or synced) from, the type it runs
 * as, the program of that type, and its bound attributes set and bound as read. Apart from `ModuleInstance`, which
 * builds, swaps and rebuilds its program with these.
 * @module
 */
import type { SessionContext, VariableSnapshot, VersionedValue } from '../session/session-context.js';
import { foundIn } from '../session/variable-reads.js';
import { UnknownModuleError, ValidationError, VariableNotFoundError } from '../errors.js';
import {
  type ModuleRegistry,
  type NeedsSource,
  type RegisteredModule,
  type VariableAwareModule,
  unmetNeed,
} from './module-registry.js';
import type { ModuleNeed } from './programs.js';
import { bindingStateOf, checkBoundValue, type BindingState } from './binding-state.js';
import { bindingVariable, type ModuleSpec, type ResolvedModuleSpec } from './module-spec.js';
import type { ModuleOptions } from './program-module.js';
import type { LanguageModel } from './language-model.js';
import { checkBindableAttribute } from './module-types.js';

/** One read of every variable the spec binds, with its type variable: what a build or a sync applies. */
export async function readBound(session: SessionContext, spec: ResolvedModuleSpec): Promise<VariableSnapshot> {
  const names = new Set(Object.values(spec.bindings ?? {}).map(bindingVariable));
  if (spec.typeVariable !== undefined) names.add(spec.typeVariable);
  if (names.size === 0) return { found: {}, missing: [] };
  const list = [...names];
  return session.readVariablesNow?.(list) ?? (await session.readVariables(list));
}

/**
 * The type `spec` runs as with the type variable as `snapshot` reads it, and that variable's version and identity (when
 * the session says: see VersionedValue.id). A name no type has lists the types the variable can select for this spec,
 * not every registered one: BestOfN and Refine need a reward, which no variable carries (see
 * `ModuleRegistry.selectable`).
 */
export function typeIn(
  session: SessionContext,
  spec: Pick<ModuleSpec, 'type' | 'typeVariable'> & NeedsSource,
  snapshot: VariableSnapshot | undefined,
  registry: ModuleRegistry,
): { entry: RegisteredModule; version: number | undefined; id: string | undefined } {
  const variable = spec.typeVariable;
  if (variable === undefined)
    return { entry: registry.resolve(spec.type as string), version: undefined, id: undefined };
  const read = snapshot && foundIn(snapshot, variable);
  // As a bound variable that is missing is refused: the same code for either kind of binding.
  // Named as the field of the spec it is read for, as a bound attribute's variable is.
  const field = { field: 'typeVariable' };
  if (!read) throw new VariableNotFoundError(session.sessionId, variable, { details: field });
  if (typeof read.value !== 'string')
    throw new ValidationError(`variable '${variable}' does not hold a module type name`, { variable, details: field });
  try {
    return { entry: registry.resolve(read.value), version: read.version, id: read.id };
  } catch (error) {
    if (!(error instanceof UnknownModuleError)) throw error;
    throw new UnknownModuleError(error.moduleType, registry.selectable(spec), {
      variable,
      cause: error,
      details: field,
    });
  }
}

/**
 * Binds the spec's attributes to their variables as `snapshot` reads them. A value that is missing or refused
 * throws, unless `lenient` (a wake): the attribute then keeps the spec's own value, bound at version 0 (no read),
 * so the first sync reads the variable again and reports the refusal.
 */
export function bindFrom(
  module: VariableAwareModule,
  session: SessionContext,
  spec: ResolvedModuleSpec,
  snapshot: VariableSnapshot,
  lenient: boolean,
  onCallbackError: BindingState['onCallbackError'],
): void {
  const reads: Record<string, VersionedValue> = {};
  for (const [attribute, binding] of Object.entries(spec.bindings ?? {})) {
    const variableName = bindingVariable(binding);
    checkBindableAttribute(module, attribute);
    const read = foundIn(snapshot, variableName);
    try {
      if (!read) throw new VariableNotFoundError(session.sessionId, variableName, { details: { field: attribute } });
      checkBoundValue(attribute, variableName, read.value, module);
      reads[attribute] = read;
    } catch (error) {
      if (!lenient) throw error;
      reads[attribute] = { value: (module as unknown as Record<string, unknown>)[attribute], version: 0 };
    }
  }
  rebind(module, spec, reads, onCallbackError);
}

/**
 * Sets each bound attribute of a fresh program to what `reads` holds for it, and binds it as read; an `onChange`
 * callback that throws is told to `onCallbackError` when given.
 */
export function rebind(
  module: VariableAwareModule,
  spec: ResolvedModuleSpec,
  reads: Readonly<Record<string, VersionedValue>>,
  onCallbackError: BindingState['onCallbackError'],
): void {
  const state = bindingStateOf(module);
  state.onCallbackError = onCallbackError;
  for (const [attribute, binding] of Object.entries(spec.bindings ?? {})) {
    const read = reads[attribute];
    if (read === undefined) continue;
    // Checked when it was read; set as `bindToVariable` sets it.
    (module as unknown as Record<string, unknown>)[attribute] = read.value;
    state.bind(
      attribute,
      { variableName: bindingVariable(binding), callback: typeof binding === 'string' ? undefined : binding.onChange },
      read,
    );
  }
}

/**
 * Why a type variable cannot switch its module to a type for want of a need: the variable names the type and
 * brings nothing else, so what the type needs must be in the module's spec already.
 */
const WANTING: Readonly<Record<ModuleNeed, string>> = {
  reward:
    "needs a reward function, and this module's spec has none: a variable cannot hold a function, so only a " +
    'module created embedded (in the process that runs it) with a reward in its spec can switch to it',
  tools: "needs at least one tool, and this module's spec has none",
};

/**
 * Refuses a type the type variable `variable` names that the spec lacks a need of, with the types the variable can
 * select instead: what a build of it would refuse, for a node that only says which type the module has.
 */
export function checkSelectable(
  entry: RegisteredModule,
  spec: NeedsSource,
  variable: string,
  registry: ModuleRegistry,
): void {
  const need = unmetNeed(entry, spec);
  if (need === undefined) return;
  const selectable = registry.selectable(spec);
  throw new ValidationError(
    `module type '${entry.name}' held by variable '${variable}' ${WANTING[need]}; ` +
      `the types it can select: ${selectable.join(', ')}`,
    { variable, details: { field: need, constraint: 'required', moduleType: entry.name, selectable } },
  );
}

/**
 * {@link construct}, for a type the type variable `variable` names: a refusal names the variable too, and a type
 * the spec lacks a need of is refused saying so, with the types the variable can select instead.
 */
export function constructHeld(
  entry: RegisteredModule,
  session: SessionContext,
  spec: ResolvedModuleSpec,
  llm: LanguageModel | undefined,
  variable: string,
  registry: ModuleRegistry,
): VariableAwareModule {
  checkSelectable(entry, spec, variable, registry);
  try {
    return construct(entry, session, spec, llm);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${error.message} (module type '${entry.name}' held by variable '${variable}')`, {
      cause: error,
      variable,
      details: { ...error.details, moduleType: entry.name },
    });
  }
}

/** The program of `entry`'s type for `spec`, before any binding. */
export function construct(
  entry: RegisteredModule,
  session: SessionContext,
  spec: ResolvedModuleSpec,
  llm: LanguageModel | undefined,
): VariableAwareModule {
  const { type: _type, typeVariable: _typeVariable, signature, bindings: _bindings, ...rest } = spec;
  const options: ModuleOptions = { ...rest, session, ...(llm ? { llm } : {}) };
  return new entry.variableAwareClass(signature, options);
}
