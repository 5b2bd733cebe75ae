/**
 * A module spec as it travels and as the modules bucket keeps it: plain JSON. Bindings name variables, tools
 * are names each node resolves against its own `Runtime.start({ tools })`, and nothing is a function — so a
 * binding's `onChange`, a tool object, and BestOfN/Refine's `reward` or MultiChainComparison's `pick` are
 * embedded-only and refused here with a message that says so, as are BestOfN and Refine, which need a `reward`.
 * @module
 */
import { UnknownModuleError, ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import {
  SPEC_KEYS,
  assertModuleSpec,
  bindingVariable,
  type ModuleSpec,
  type ModuleTypeChoice,
} from '../modules/module-spec.js';
import { normalizeModuleName } from '../modules/module-name.js';
import type { ModuleParameters } from '../modules/module-types.js';

/**
 * The JSON form of a {@link ModuleSpec}.
 * @example
 * { "type": "ReAct", "signature": "question:string -> answer:string", "bindings": { "temperature": "llm_temperature" }, "tools": ["search"] }
 */
export type WireModuleSpec = WireModuleSpecFields & ModuleTypeChoice;

/** What a {@link WireModuleSpec} holds besides its type, given by exactly one of `type` and `typeVariable`. */
export interface WireModuleSpecFields extends Omit<ModuleParameters, 'stopSequences'> {
  readonly signature: string;
  /** `{ attribute: variableName }` */
  readonly bindings?: Readonly<Record<string, string>>;
  /** Names of tools registered on every node with `Runtime.start({ tools })`. */
  readonly tools?: readonly string[];
  readonly stopSequences?: readonly string[];
  readonly n?: number;
  readonly rounds?: number;
  readonly samples?: number;
  readonly threshold?: number;
}

/** Keys that hold functions in an embedded spec and have no JSON form. */
const FUNCTION_KEYS = ['reward', 'pick'] as const;

/** The keys a spec may have over the wire, which a refusal of an unknown one lists: all but those taking functions. */
const WIRE_SPEC_KEYS: ReadonlySet<string> = new Set(
  [...SPEC_KEYS].filter((key) => !(FUNCTION_KEYS as readonly string[]).includes(key)),
);

/** The module types that cannot run without a function (their `reward`), by the registry's normalized name. */
const NEEDS_REWARD: ReadonlyMap<string, string> = new Map([
  ['bestofn', 'BestOfN'],
  ['refine', 'Refine'],
]);

/**
 * `error` as a create over the wire answers it: its available types without those {@link parseWireSpec} refuses
 * (BestOfN and Refine), which the registry lists for embedded creates but no JSON spec can name.
 */
export function wireUnknownModule(error: UnknownModuleError): UnknownModuleError {
  const available = error.available.filter((name) => !NEEDS_REWARD.has(normalizeModuleName(name)));
  // Every other detail goes as it is (the spec field a type variable's name came from, say).
  return new UnknownModuleError(error.moduleType, available, {
    cause: error,
    ...(error.variable === undefined ? {} : { variable: error.variable }),
    details: { ...error.details, available },
  });
}

/**
 * Why `spec` cannot travel as JSON, or `undefined` when it can. A node keeps a module whose spec cannot travel
 * to itself (it is not written to the modules bucket, so no other node can wake it).
 */
export function wireProblem(spec: ModuleSpec): string | undefined {
  for (const key of FUNCTION_KEYS) {
    if (spec[key] !== undefined)
      return `'${key}' takes a function, so a module with one can only be created embedded (in the process that runs it)`;
  }
  for (const [attribute, binding] of Object.entries(spec.bindings ?? {})) {
    if (typeof binding !== 'string' && binding.onChange !== undefined) {
      return `the binding of '${attribute}' has an onChange callback, which only an embedded module can have`;
    }
  }
  if ((spec.tools ?? []).some((tool) => typeof tool !== 'string')) {
    return 'tools must be given by name over the wire; register the tool objects on each node with Runtime.start({ tools })';
  }
  return undefined;
}

/**
 * Whether `spec` has `key` of its own; `false` when it cannot be asked (a revoked proxy, a throwing trap), which
 * {@link assertModuleSpec} then refuses naming the spec.
 */
function holdsOwn(spec: unknown, key: string): boolean {
  try {
    return typeof spec === 'object' && spec !== null && Object.hasOwn(spec, key);
  } catch {
    return false;
  }
}

/**
 * The JSON form of `spec`.
 * @throws {ValidationError} when the spec holds functions (see {@link wireProblem})
 */
export function toWireSpec(spec: ModuleSpec): WireModuleSpec {
  // An unknown key's refusal lists what a wire spec takes, as the node's does (parseWireSpec), and a function key only
  // where the spec holds it: that one is then said to be embedded-only (wireProblem), not unknown.
  const held = FUNCTION_KEYS.filter((key) => holdsOwn(spec, key));
  assertModuleSpec(spec, held.length === 0 ? WIRE_SPEC_KEYS : new Set([...WIRE_SPEC_KEYS, ...held]));
  const problem = wireProblem(spec);
  if (problem)
    throw new ValidationError(`this module spec cannot be sent over NATS: ${problem}`, {
      details: { constraint: 'wireSpec' },
    });
  const { bindings, ...rest } = spec;
  const wire: Record<string, unknown> = { ...rest };
  if (bindings !== undefined)
    wire.bindings = Object.fromEntries(
      Object.entries(bindings).map(([attribute, binding]) => [attribute, bindingVariable(binding)]),
    );
  return wire as unknown as WireModuleSpec;
}

/**
 * Reads a spec that arrived as JSON (a request body, or the modules bucket) into a {@link ModuleSpec}, refusing
 * what only an embedded spec may hold. Values (a temperature of the wrong type) are checked when the module is
 * built, as for embedded specs.
 * @throws {ValidationError}
 */
export function parseWireSpec(value: unknown): ModuleSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError("field 'spec' must be a module spec object", { details: { field: 'spec' } });
  const fields = value as Record<string, unknown>;
  for (const key of FUNCTION_KEYS) {
    if (Object.hasOwn(fields, key)) {
      throw new ValidationError(
        `module spec field '${key}' takes a function, which only an embedded module can have: it cannot be sent over NATS`,
        {
          details: { field: key, constraint: 'embeddedOnly' },
        },
      );
    }
  }
  const needsReward = typeof fields.type === 'string' ? NEEDS_REWARD.get(normalizeModuleName(fields.type)) : undefined;
  if (needsReward !== undefined) {
    // Said here rather than by the module as it is built ("needs a reward function (options.reward)"): over the
    // wire no reward can be given at all.
    throw new ValidationError(
      `module type '${needsReward}' needs a reward function, and a function cannot be sent over NATS: ` +
        'BestOfN and Refine can only be created embedded (in the process that runs them)',
      { details: { field: 'type', constraint: 'embeddedOnly' } },
    );
  }
  if (fields.tools !== undefined) {
    const notAName = Array.isArray(fields.tools) ? fields.tools.findIndex((tool) => typeof tool !== 'string') : -1;
    if (!Array.isArray(fields.tools) || notAName >= 0) {
      throw new ValidationError(
        'module spec tools must be a list of tool names registered on the nodes (Runtime.start({ tools }))',
        { details: { field: notAName >= 0 ? `tools[${notAName}]` : 'tools' } },
      );
    }
  }
  const bindings = fields.bindings;
  if (typeof bindings === 'object' && bindings !== null && !Array.isArray(bindings)) {
    for (const [attribute, binding] of Object.entries(bindings)) {
      if (typeof binding !== 'string') {
        throw new ValidationError(
          `binding of '${attribute}' must be a variable name over the wire, got ${show(binding)}`,
          { details: { field: `bindings.${attribute}`, attribute } },
        );
      }
    }
  }
  assertModuleSpec(fields, WIRE_SPEC_KEYS);
  return fields;
}
