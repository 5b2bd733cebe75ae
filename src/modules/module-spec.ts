/**
 * What a module process is made from: its type (fixed, or chosen by a `module` variable), its signature, its
 * bindings and its options. Checked strictly, since it arrives from users and, later, over the wire.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertVariableName } from '../variables/names.js';
import type { SyncCallback } from './binding-state.js';
import { BINDABLE_ATTRIBUTES, type ModuleParameters, type ModuleTool, type RewardFunction, type SamplePicker } from './module-types.js';

/** One binding: a variable name, or (embedded only) a variable with a callback told of every change. */
export type ModuleBinding = string | { readonly variable: string; readonly onChange?: SyncCallback };

/** The definition of a module process. */
export interface ModuleSpec extends ModuleParameters {
  /** The module type (`Predict`, `ChainOfThought`, `COT`, `ReAct`, …). Give this or `typeVariable`. */
  readonly type?: string;
  /** A `module` variable whose value names the type; a change swaps the program at the next sync. */
  readonly typeVariable?: string;
  /** The Ax signature, for example `question:string -> answer:string`. */
  readonly signature: string;
  /** `{ attribute: variable }`: the attributes re-read from the session before every execution. */
  readonly bindings?: Readonly<Record<string, ModuleBinding>>;
  /** ReAct's tools (functions, so embedded only). */
  readonly tools?: readonly ModuleTool[];
  /** BestOfN: candidates. Refine: see `rounds`. */
  readonly n?: number;
  readonly rounds?: number;
  readonly samples?: number;
  readonly threshold?: number;
  readonly reward?: RewardFunction;
  readonly pick?: SamplePicker;
}

const SPEC_KEYS = new Set<string>(['type', 'typeVariable', 'signature', 'bindings', 'tools', 'n', 'rounds', 'samples', 'threshold', 'reward', 'pick', ...BINDABLE_ATTRIBUTES]);

/** Module ids become registry names and NATS subject tokens: same rule as session ids. */
const MODULE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Throws `ValidationError` unless `id` is a valid module id. */
export function assertModuleId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !MODULE_ID.test(id)) {
    throw new ValidationError(`invalid module id ${JSON.stringify(id)}: use 1-128 letters, digits, '_' or '-'`, { details: { moduleId: id } });
  }
}

/** Checks the shape of a spec (unknown keys, missing type, bindings naming valid variables); values are checked by the module. */
export function assertModuleSpec(spec: unknown): asserts spec is ModuleSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new ValidationError('a module spec must be an object');
  const fields = spec as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !SPEC_KEYS.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(`module spec has unknown keys: ${unknown.join(', ')}; accepted: ${[...SPEC_KEYS].join(', ')}`, { details: { unknown } });
  }
  if (typeof fields.signature !== 'string' || fields.signature.trim() === '') throw new ValidationError('a module spec needs a signature string');
  const hasType = fields.type !== undefined;
  const hasVariable = fields.typeVariable !== undefined;
  if (hasType === hasVariable) throw new ValidationError('a module spec needs exactly one of type or typeVariable');
  if (hasType && typeof fields.type !== 'string') throw new ValidationError('module spec type must be a string');
  if (hasVariable) assertVariableName(fields.typeVariable);
  const bindings = fields.bindings;
  if (bindings === undefined) return;
  if (typeof bindings !== 'object' || bindings === null || Array.isArray(bindings)) throw new ValidationError('module spec bindings must be an object of attribute → variable');
  for (const [attribute, binding] of Object.entries(bindings)) {
    const variable = typeof binding === 'string' ? binding : (binding as { variable?: unknown } | null)?.variable;
    try {
      assertVariableName(variable);
    } catch (error) {
      throw new ValidationError(`binding of '${attribute}' must name a variable, got ${JSON.stringify(binding)}`, { cause: error, details: { attribute } });
    }
  }
}

/** The variable name of a binding. */
export function bindingVariable(binding: ModuleBinding): string {
  return typeof binding === 'string' ? binding : binding.variable;
}
