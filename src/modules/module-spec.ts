/**
 * What a module process is made from: its type (fixed, or chosen by a `module` variable), its signature, its
 * bindings and its options. Checked strictly, since it arrives from users and, later, over the wire.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertKindReadable, assertOwnFields, readOptions } from '../option-keys.js';
import { cutText } from '../printable.js';
import { show } from '../variables/failure.js';
import { assertVariableName, notAString, shownId } from '../variables/names.js';
import type { SyncCallback } from './binding-state.js';
import { PROGRAM_PARAMETERS, checkProgramSettings, type ProgramParameter } from './setting-limits.js';
import { assertToolName } from './tool-name.js';
import {
  BINDABLE_ATTRIBUTES,
  checkParameterValue,
  type BindableAttribute,
  type ModuleParameters,
  type ModuleTool,
  type ProgramParameters,
  type RewardFunction,
  type SamplePicker,
} from './module-types.js';

/** One binding: a variable name, or (embedded only) a variable with a callback told of every change. */
export type ModuleBinding = string | { readonly variable: string; readonly onChange?: SyncCallback };

/** A spec's `bindings`: only a bindable attribute or a program parameter is bound (a misspelt one fails to compile). */
export type ModuleBindings = { readonly [Attribute in BindableAttribute | ProgramParameter]?: ModuleBinding };

/**
 * What every module spec holds besides its type: its LLM parameters and program parameters (`n`, `rounds`,
 * `samples`, `threshold`) are the starting values, which `bindings` may replace with session variables re-read per
 * execution.
 */
export interface ModuleSpecFields extends ModuleParameters, ProgramParameters {
  /** The Ax signature, for example `question:string -> answer:string`. */
  readonly signature: string;
  /**
   * `{ attribute: variable }`: the attributes re-read from the session before every execution. An LLM parameter
   * (`temperature`, …) or a program parameter (`samples`, …) is checked at creation and at every sync.
   */
  readonly bindings?: ModuleBindings;
  /**
   * ReAct's tools: names of the tools the runtime was started with (`Runtime.start({ tools })`), which is the only
   * form that travels over NATS, or (embedded only) the tool objects themselves.
   */
  readonly tools?: readonly (ModuleTool | string)[];
  readonly reward?: RewardFunction;
  readonly pick?: SamplePicker;
}

/** How a spec gives its module's type: exactly one of a fixed `type` and a `typeVariable`. */
export type ModuleTypeChoice =
  | {
      /** The module type (`Predict`, `ChainOfThought`, `COT`, `ReAct`, …). */
      readonly type: string;
      readonly typeVariable?: undefined;
    }
  | {
      readonly type?: undefined;
      /** A `module` variable whose value names the type; a change swaps the program at the next sync. */
      readonly typeVariable: string;
    };

/**
 * The definition of a module process. A spec with both `type` and `typeVariable`, or neither, fails to compile, and
 * is refused at run time when it comes untyped (over the wire, say).
 */
export type ModuleSpec = ModuleSpecFields & ModuleTypeChoice;

/** Every key a spec may have. */
export const SPEC_KEYS: ReadonlySet<string> = new Set<string>([
  'type',
  'typeVariable',
  'signature',
  'bindings',
  'tools',
  ...PROGRAM_PARAMETERS,
  'reward',
  'pick',
  ...BINDABLE_ATTRIBUTES,
]);

/** A spec whose tool names have been replaced by the runtime's tools: what a module is built from. */
export type ResolvedModuleSpec = Omit<ModuleSpec, 'tools'> & { readonly tools?: readonly ModuleTool[] };

/** Module ids become registry names and NATS subject tokens: same rule as session ids. */
const MODULE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Throws `ValidationError` unless `id` is a valid module id; one that is no string is refused naming its kind, as
 * a session id or a variable name is ("module id must be a string, got number").
 */
export function assertModuleId(id: unknown): asserts id is string {
  // Not "invalid module id 42": that reads as a module called `42` (and `details` would hold the value itself).
  if (typeof id !== 'string') throw notAString('module id', 'moduleId', id);
  if (!MODULE_ID.test(id)) {
    throw new ValidationError(
      `invalid module id ${shownId(id)}: use 1-128 ASCII letters (A-Z, a-z), digits, '_' or '-'`,
      {
        // As a session id's refusal says it (names.ts), and cut as that is: an id may be as long as a request.
        details: { constraint: 'moduleId', moduleId: cutText(id, 200) },
      },
    );
  }
}

/**
 * Orders module ids by code unit: the order `session.modules()` lists a session's modules in, on an embedded
 * runtime as from a remote client. A client's list comes from the keys of the modules bucket, which keep no start
 * order, so the id is the one order both kinds of handle can give.
 * @example
 * ['qb', 'qa'].sort(compareModuleIds) // ['qa', 'qb']
 */
export function compareModuleIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks a spec before anything is built or stored: its shape (unknown keys, missing type, bindings naming valid
 * variables) and the values of its settings (every number within its range, see `SETTING_RANGES`). What needs the
 * session or the runtime (the type variable's value, tool names, the signature's syntax) is checked by the module.
 * @param accepted the keys the spec may have, which a refusal lists: {@link SPEC_KEYS}, or fewer where a spec
 *   cannot carry them all (over the wire, no function)
 * @throws {ValidationError} naming the key, the value and what it needs
 */
export function assertModuleSpec(spec: unknown, accepted: ReadonlySet<string> = SPEC_KEYS): asserts spec is ModuleSpec {
  assertKindReadable(spec, 'module spec', { field: 'spec' });
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new ValidationError('a module spec must be an object', { details: { field: 'spec', got: show(spec) } });
  assertOwnFields(spec, 'a module spec', { field: 'spec' });
  const fields = spec as Record<string, unknown>;
  const unknown = readOptions(fields, 'module spec', 'key')
    .map(([key]) => key)
    .filter((key) => !accepted.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `module spec has unknown keys: ${unknown.join(', ')}; accepted: ${[...accepted].join(', ')}`,
      { details: { field: 'spec', unknown, accepted: [...accepted] } },
    );
  }
  if (typeof fields.signature !== 'string' || fields.signature.trim() === '')
    throw new ValidationError('a module spec needs a signature string', { details: { field: 'signature' } });
  const hasType = fields.type !== undefined;
  const hasVariable = fields.typeVariable !== undefined;
  if (hasType === hasVariable) {
    throw new ValidationError('a module spec needs exactly one of type or typeVariable', {
      details: { field: hasType ? 'typeVariable' : 'type' },
    });
  }
  if (hasType && typeof fields.type !== 'string')
    throw new ValidationError('module spec type must be a string', { details: { field: 'type' } });
  if (hasVariable) namingVariable('typeVariable', () => assertVariableName(fields.typeVariable));
  assertTools(fields.tools);
  for (const attribute of BINDABLE_ATTRIBUTES) checkParameterValue(attribute, fields[attribute]);
  checkProgramSettings(fields);
  assertBindings(fields.bindings);
}

/**
 * The attributes a spec may bind: those a module reads per execution. A built-in program has no other attribute a
 * binding could usefully set, so any other name (a misspelt `temprature`) is refused rather than bound to nothing.
 */
export const SPEC_BINDING_ATTRIBUTES: readonly string[] = [...BINDABLE_ATTRIBUTES, ...PROGRAM_PARAMETERS];

const bindingAttributes = new Set(SPEC_BINDING_ATTRIBUTES);
const BINDING_KEYS = new Set(['variable', 'onChange']);

/** Checks `bindings` of a spec: known attributes, each bound to a variable name or `{ variable, onChange? }`. */
function assertBindings(bindings: unknown): void {
  if (bindings === undefined) return;
  assertKindReadable(bindings, 'module spec bindings', { field: 'bindings' });
  if (typeof bindings !== 'object' || bindings === null || Array.isArray(bindings))
    throw new ValidationError('module spec bindings must be an object of attribute → variable', {
      details: { field: 'bindings', got: show(bindings) },
    });
  assertOwnFields(bindings, 'module spec bindings', { field: 'bindings' });
  for (const [attribute, binding] of readOptions(bindings, 'module spec', 'binding')) {
    if (!bindingAttributes.has(attribute)) {
      throw new ValidationError(
        `module spec binds unknown attribute '${attribute}'; bindable: ${SPEC_BINDING_ATTRIBUTES.join(', ')}`,
        { details: { field: `bindings.${attribute}`, attribute, accepted: SPEC_BINDING_ATTRIBUTES } },
      );
    }
    if (typeof binding === 'object' && binding !== null && !Array.isArray(binding)) {
      assertOwnFields(binding, `binding of '${attribute}'`, { field: `bindings.${attribute}` });
      // An extra key is a mistake of the caller's (a misspelt onChange would never be called), not something to drop.
      const extra = readOptions(binding, `module spec binding of '${attribute}':`, 'key')
        .map(([key]) => key)
        .filter((key) => !BINDING_KEYS.has(key));
      if (extra.length > 0) {
        throw new ValidationError(
          `binding of '${attribute}' has unknown keys: ${extra.join(', ')}; accepted: variable, onChange`,
          { details: { field: `bindings.${attribute}`, attribute, unknown: extra, accepted: [...BINDING_KEYS] } },
        );
      }
      const onChange = (binding as { onChange?: unknown }).onChange;
      if (onChange !== undefined && typeof onChange !== 'function') {
        throw new ValidationError(`binding of '${attribute}': onChange must be a function, got ${typeof onChange}`, {
          details: { field: `bindings.${attribute}.onChange`, attribute },
        });
      }
    }
    const variable = typeof binding === 'string' ? binding : (binding as { variable?: unknown } | null)?.variable;
    try {
      assertVariableName(variable);
    } catch (error) {
      throw new ValidationError(`binding of '${attribute}' must name a variable, got ${show(binding)}`, {
        cause: error,
        details: { field: `bindings.${attribute}`, attribute },
      });
    }
  }
}

/** Runs `check`, a variable name's, with its refusal naming the spec's `field` too. */
function namingVariable(field: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`module spec ${field}: ${error.message}`, {
      cause: error,
      details: { ...error.details, field },
    });
  }
}

/** The variable name of a binding. */
export function bindingVariable(binding: ModuleBinding): string {
  return typeof binding === 'string' ? binding : binding.variable;
}

function assertTools(tools: unknown): void {
  if (tools === undefined) return;
  if (!Array.isArray(tools))
    throw new ValidationError('module spec tools must be a list of tool names (or, embedded, tool objects)', {
      details: { field: 'tools', got: show(tools) },
    });
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    const name = toolName(tool);
    if (name === undefined)
      throw new ValidationError(
        `module spec tools: ${show(tool)} is neither a tool name nor a tool with a name and a func`,
        { details: { field: `tools[${index}]`, got: show(tool) } },
      );
    // A tool name refers to a runtime tool, whose name was checked when the runtime took it.
    if (typeof tool !== 'string') assertToolName(name, 'module spec tools:', { field: `tools[${index}]` });
    // Two tools of one name: the model could call only one of them, and which one is Ax's choice.
    if (names.has(name))
      throw new ValidationError(`module spec tools: '${name}' is given twice`, {
        details: { field: `tools[${index}]`, tool: name },
      });
    names.add(name);
  }
}

/** The name of a spec's tool: a tool name itself, or a tool object's; `undefined` for anything else. */
function toolName(tool: unknown): string | undefined {
  if (typeof tool === 'string') return tool === '' ? undefined : tool;
  const candidate = tool as Partial<ModuleTool> | null;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  return typeof candidate.name === 'string' && typeof candidate.func === 'function' ? candidate.name : undefined;
}

/**
 * Replaces the tool names of `spec` with the tools of `available` (a runtime's `tools` option). Names are looked
 * up on the node that builds the module, so every node that may wake it should be started with the same tools.
 * `stored`, for a spec read back to wake module `moduleId` of session `sessionId`, words a missing tool as that
 * module's (the request that woke it named none), naming both in the message and the details.
 * @throws {ValidationError} for a name that `available` lacks, listing the names it has
 */
export function resolveTools(
  spec: ModuleSpec,
  available: ReadonlyMap<string, ModuleTool>,
  stored?: { readonly moduleId: string; readonly sessionId: string },
): ResolvedModuleSpec {
  if (spec.tools === undefined) return spec as ResolvedModuleSpec;
  const tools = spec.tools.map((tool, index) => {
    if (typeof tool !== 'string') return tool;
    const found = available.get(tool);
    if (!found) {
      const known = [...available.keys()];
      // Said for both ways a node starts (embedded or `tether serve`): which one started this one is not known here.
      const has =
        known.length > 0
          ? `the tools ${known.join(', ')}`
          : 'no tools (Runtime.start({ tools }), or tether serve --tools)';
      const details = { field: `tools[${index}]`, tool, available: known };
      if (stored === undefined)
        throw new ValidationError(`unknown tool '${tool}'; this node was started with ${has}`, { details });
      const { moduleId, sessionId } = stored;
      throw new ValidationError(
        `module '${moduleId}' of session '${sessionId}' was created with the tool '${tool}', which this node lacks: ` +
          `it was started with ${has}; start every node with the same tools`,
        { details: { ...details, moduleId, sessionId } },
      );
    }
    return found;
  });
  return { ...spec, tools };
}
