/**
 * The shapes modules take and return, free of Ax types: the parameters a module hands to its LLM on every
 * execution (which `ax-bridge.ts` translates into Ax per-call options), the program parameters read at every
 * execution (BestOfN's `n`, …), results with provenance, tools.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import type { ExecutionUsage } from '../../machines/module.types.js';
import { checkExamplesShape, type ModuleExample } from './module-examples.js';
import {
  PROGRAM_PARAMETERS,
  type ProgramParameter,
  checkSetting,
  isNumericSetting,
  isProgramParameter,
} from './setting-limits.js';

export { PROGRAM_PARAMETERS, isProgramParameter, type ProgramParameter } from './setting-limits.js';

/**
 * How much hidden reasoning a thinking model may spend; the levels Ax understands. The OpenAI-protocol providers
 * do not send the level as given: Ax maps it to `reasoning_effort` (`low` → `medium`, `medium` → `high`,
 * `highest` → `xhigh`, `none` → left out; see docs/protocol.md).
 */
export type ThinkingBudget = 'minimal' | 'low' | 'medium' | 'high' | 'highest' | 'none';

/** The thinking budget levels, for validation. */
export const THINKING_BUDGETS: readonly ThinkingBudget[] = ['minimal', 'low', 'medium', 'high', 'highest', 'none'];

/**
 * The parameters that reach the LLM on every `forward()`. Each is optional: unset means Ax's default for the
 * provider, which Ax sends as it would any value (a temperature of 0 for OpenAI; 0.8 for BestOfN and Refine, which
 * sample), not the provider's own default.
 * Ax drops these when given to a program's constructor, so Tether sends them with every call. Numbers outside
 * their range (`SETTING_RANGES`) are refused with a `ValidationError`, given to the constructor or through a
 * binding, or set on the module's attribute (then by the next execution, before anything is sent).
 */
export interface ModuleParameters {
  /** 0 to 2. A module that samples (BestOfN, Refine, MultiChainComparison) sends 1 as 0.8: Ax's doing. */
  temperature?: number;
  /** An integer from 1 to 1,000,000. */
  maxTokens?: number;
  /** 0 to 1. */
  topP?: number;
  /** An integer from 0 to 1000. Not sent by the OpenAI-protocol providers: OpenAI's API has no `top_k`. */
  topK?: number;
  /** −2 to 2. */
  presencePenalty?: number;
  /** −2 to 2. */
  frequencyPenalty?: number;
  stopSequences?: readonly string[];
  /** The provider's model name (for example `gpt-4o-mini`); not the module type. */
  model?: string;
  thinkingTokenBudget?: ThinkingBudget;
  /**
   * Extra attempts after a malformed answer or a 5xx; also bounds provider retries (see `createLanguageModel`).
   * An integer from 0 to 10.
   */
  maxRetries?: number;
  /**
   * Upper bound of the steps of a multi-step program, an integer from 1 to 100: ReAct's LLM round trips (Ax's own
   * bound, 25, when unset), and ProgramOfThought's actor turns (each a code-writing call and its summary; Ax's own
   * bound, 8, when unset).
   */
  maxSteps?: number;
  /**
   * The program's instruction for the next executions: Ax puts it first in the prompt, before the signature's
   * description, which stays (give the signature none for the instruction to stand alone). Empty means none.
   */
  instructions?: string;
  /**
   * Few-shot examples Ax writes into the prompt before the real input, as worked exchanges: a list of at most 64
   * (`MAX_EXAMPLES`) plain objects whose keys are fields of the signature (inputs and outputs; an example may leave
   * fields out) and whose values are JSON, each value one its field takes. ChainOfThought's examples may give its
   * `reasoning`. Refused with a `ValidationError` naming the example (`details.index`) and the field otherwise.
   * ProgramOfThought takes none. Empty means none.
   * @example [{ question: 'What is 2 + 2?', answer: '4' }]
   */
  examples?: readonly ModuleExample[];
}

/**
 * The parameters of the program shape itself, read at every execution like {@link ModuleParameters} (so they can be
 * bound to variables) but never sent to the LLM as model options. A kind ignores the ones it does not use. Unset
 * means the value given to the constructor, else the default.
 */
export interface ProgramParameters {
  /** BestOfN: how many candidates (one request for that many samples), an integer from 1 to 32. @default 3 */
  n?: number;
  /** Refine: how many rounds at most (one request each, plus one for advice between rounds), 1 to 32. @default 3 */
  rounds?: number;
  /** MultiChainComparison: how many samples to compare (one request for that many), 1 to 32. @default 3 */
  samples?: number;
  /**
   * Refine: stop after the first round whose candidate scores at least this. BestOfN: keep the first candidate that
   * scores at least this rather than the best (all come in one request, and each is scored). Any finite number.
   * @default none
   */
  threshold?: number;
}

// Every program parameter has a documented field above, and every field is in the list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _programParametersListed: Same<keyof ProgramParameters, ProgramParameter> = true;
void _programParametersListed;

/** What one execution runs with: the LLM parameters and the program parameters, frozen at its sync. */
export type ExecutionParameters = ModuleParameters & ProgramParameters;

/** A name of {@link ModuleParameters}: an attribute that maps onto an Ax per-call option. */
export type BindableAttribute = keyof ModuleParameters;

/** Every {@link BindableAttribute}, in the order the original design listed them. */
export const BINDABLE_ATTRIBUTES: readonly BindableAttribute[] = [
  'temperature',
  'maxTokens',
  'topP',
  'topK',
  'presencePenalty',
  'frequencyPenalty',
  'stopSequences',
  'model',
  'thinkingTokenBudget',
  'maxRetries',
  'maxSteps',
  'instructions',
  'examples',
];

const bindable = new Set<string>(BINDABLE_ATTRIBUTES);

/**
 * Whether `attribute` reaches the LLM as a per-call option. The {@link PROGRAM_PARAMETERS} are read per execution
 * too, though not sent to the LLM (see `isProgramParameter`); any other attribute is a plain instance attribute.
 */
export function isBindableAttribute(attribute: string): attribute is BindableAttribute {
  return bindable.has(attribute);
}

/**
 * Checks a value bound to an LLM parameter before it is applied, so a wrongly typed variable is reported at sync
 * time instead of being sent to (and rejected by) the provider, or silently ignored. Numbers must lie in their
 * documented range (see `SETTING_RANGES`). `undefined` clears it.
 * @throws {ValidationError} naming the attribute (in `details.field`), the value and what it needs
 */
export function checkParameterValue(attribute: BindableAttribute, value: unknown): void {
  if (isNumericSetting(attribute)) return checkSetting(attribute, value);
  // Their fit to a signature is the program's to judge (see examples-fit.ts); their shape is judged here.
  if (attribute === 'examples') return checkExamplesShape(value);
  const expected = parameterProblem(attribute, value);
  if (expected === undefined) return;
  // A list with one wrong item is shown by that item: "needs a list of strings, got an array" read as if a list
  // were not what was asked.
  const index =
    attribute === 'stopSequences' && Array.isArray(value) ? value.findIndex((item) => typeof item !== 'string') : -1;
  const got = index >= 0 ? `${show((value as unknown[])[index])} at index ${index}` : show(value);
  throw new ValidationError(`attribute '${attribute}' needs ${expected}, got ${got}`, {
    details: { field: attribute, expected, ...(index >= 0 ? { index } : {}) },
  });
}

/**
 * Checks every LLM parameter of `params` as {@link checkParameterValue} does: what an execution is about to send,
 * which may have been set on the module's attributes directly, past the checks of its constructor and bindings.
 * @throws {ValidationError} for the first one it cannot take
 */
export function checkParameters(params: ModuleParameters): void {
  for (const attribute of BINDABLE_ATTRIBUTES) {
    // An attribute left unset (most of them) has nothing to check: this runs before every execution.
    const value = params[attribute];
    if (value !== undefined) checkParameterValue(attribute, value);
  }
}

/** What a `model` value should have been, or `undefined` for a name: not blank, no whitespace at either end. */
function modelNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'a model name';
  return value.trim() === value ? undefined : 'a model name without spaces around it';
}

/** What a non-numeric `value` should have been for `attribute`, or `undefined` when it is fine (runs per sync). */
function parameterProblem(attribute: BindableAttribute, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (attribute === 'stopSequences') {
    return Array.isArray(value) && value.every((s) => typeof s === 'string') ? undefined : 'a list of strings';
  }
  if (attribute === 'thinkingTokenBudget') {
    return THINKING_BUDGETS.includes(value as ThinkingBudget) ? undefined : `one of ${THINKING_BUDGETS.join(', ')}`;
  }
  // An empty or blank model name is no model, and no provider names a model with spaces around it (a value pasted
  // from a form or a shell): sent, the provider would refuse every execution for it, failing them all instead of
  // the sync, which keeps the last good model.
  if (attribute === 'model') return modelNameProblem(value);
  return typeof value === 'string' ? undefined : 'a string';
}

/**
 * Checks a value about to be applied to `attribute` of a module (by a binding, at bind time and at every sync):
 * an LLM parameter as {@link checkParameterValue} does, a program parameter against its range. Other attributes
 * are the user's own and take any value.
 * @throws {ValidationError} naming the attribute, the value and what it needs
 */
export function checkAttributeValue(attribute: string, value: unknown): void {
  if (isBindableAttribute(attribute)) checkParameterValue(attribute, value);
  else if (isProgramParameter(attribute)) checkSetting(attribute, value);
}

/** Attributes a binding may never overwrite: the module's identity and wiring. */
const RESERVED = new Set(['signature', 'llm', 'moduleType', 'constructor', '__proto__', 'prototype', 'session']);

/**
 * Rejects attribute names that would clobber the module's methods or identity, and names the module does not
 * have: an LLM or program parameter, or an attribute a subclass declared (`VariableAwareMixin(Summarize)`), is
 * bound; a misspelt `temprature` would be set on the instance and read by nothing, so it is refused.
 * @throws {ValidationError} naming the attribute in `details.field`, as every refused module setting is named
 * (`details.variable` is for session variables only)
 */
export function checkBindableAttribute(target: object, attribute: string): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(attribute) || RESERVED.has(attribute)) {
    throw new ValidationError(`'${attribute}' cannot be bound`, { details: { field: attribute } });
  }
  if (typeof (target as Record<string, unknown>)[attribute] === 'function') {
    throw new ValidationError(`'${attribute}' is a method of the module and cannot be bound`, {
      details: { field: attribute },
    });
  }
  if (!isBindableAttribute(attribute) && !isProgramParameter(attribute) && !(attribute in target)) {
    const accepted = [...BINDABLE_ATTRIBUTES, ...PROGRAM_PARAMETERS];
    throw new ValidationError(
      `the module has no attribute '${attribute}' to bind; bindable: ${accepted.join(', ')} (or an attribute its class declares)`,
      // `attribute` too, as a spec's bindings name an unknown one (module-spec.ts).
      { details: { field: attribute, attribute, accepted } },
    );
  }
}

/** Copies the set parameters of `source` into a fresh object: the frozen view one execution runs with. */
export function snapshotParameters(source: ExecutionParameters): ExecutionParameters {
  const out: Record<string, unknown> = {};
  for (const attribute of BINDABLE_ATTRIBUTES) {
    const value = source[attribute];
    if (value !== undefined) out[attribute] = value;
  }
  for (const attribute of PROGRAM_PARAMETERS) {
    const value = source[attribute];
    if (value !== undefined) out[attribute] = value;
  }
  return out as ExecutionParameters;
}

/** The input or output fields of one execution, by field name. */
export type FieldValues = Record<string, unknown>;

/** What one `forward()` returns. */
export interface ModuleResult {
  /** The signature's output fields (a ChainOfThought's `reasoning` is not among them). */
  readonly output: FieldValues;
  /**
   * `{ variableName: version }` of every bound variable whose value this execution used, read in one consistent
   * snapshot. Empty for a module without bindings. For a multi-step program it is the snapshot of its last step.
   */
  readonly provenance: Readonly<Record<string, number>>;
  /** The visible reasoning of the ChainOfThought variants, kept apart from `output`. */
  readonly reasoning?: string;
  /** The model the execution's requests asked for (see `ExecutionResult.model`). */
  readonly model: string;
  /** The tokens the execution's requests used, when the provider reported any (see `ExecutionResult.usage`). */
  readonly usage?: ExecutionUsage;
}

/** Options of one `forward()`; any other key, or a value of another kind, is refused with `ValidationError`. */
export interface ForwardOptions {
  /**
   * Re-read the bound variables before executing.
   * @default true
   */
  readonly autoSync?: boolean;
  /**
   * Re-read the bound variables between the steps of a multi-step program (ReAct).
   * @default the value of `autoSync`
   */
  readonly syncBetweenSteps?: boolean;
  /** Cancels the execution, including a request in flight. */
  readonly abortSignal?: AbortSignal;
  /** Told each new piece of a text output field as the provider streams it (`field`, new characters). */
  readonly onDelta?: DeltaListener;
  /**
   * Told of each sync of this forward that was refused, the one before it or one between the steps of a
   * multi-step program, after the module's `onSyncError` handler (which is told as well). The execution goes on
   * with the last good values. A throw from it is reported as a process warning and changes nothing.
   */
  readonly onSyncFailed?: (error: Error) => void;
  /**
   * Told of each sync between the steps of a multi-step program (ReAct) that changed a bound value, with
   * `{ attribute: [old, new] }`: the step about to start sends the new values. A sync that changed nothing is not
   * told. A throw from it is reported as a process warning and changes nothing.
   */
  readonly onStepSynced?: (changes: Readonly<Record<string, readonly [unknown, unknown]>>) => void;
}

/** A JSON-Schema object describing a tool's arguments. */
export interface ToolParameters {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
  /** Any other keyword of the schema's dialect (`additionalProperties`, `$defs`, `$schema`, …). */
  readonly [keyword: string]: unknown;
}

/** A function a ReAct module may call between its steps. */
export interface ModuleTool {
  /**
   * What the LLM calls it: 1 to 64 ASCII letters, digits, `_` or `-` (what providers take as a function's name;
   * another one is refused with `validation_failed`).
   */
  readonly name: string;
  readonly description: string;
  /**
   * A JSON Schema of the arguments, sent to the provider and checked against every call before `func` runs:
   * arguments that break it go back to the model to correct, and `func` never sees them. Without it, any JSON
   * object is taken.
   */
  readonly parameters?: ToolParameters;
  /**
   * `signal` aborts when the execution is cancelled: a tool doing slow work should stop then. A throw ends the
   * execution with `ToolFailedError` (`tool_failed`) naming the tool; to let the model see a failure and carry
   * on, return it as the result instead. A tool that executes its own module waits behind the execution waiting for
   * it, until that execution's timeout: executions of one module run one at a time.
   */
  readonly func: (args: Record<string, unknown>, context: ToolCallContext) => unknown;
}

/** What a tool is told besides its arguments. */
export interface ToolCallContext {
  /** Aborted when the execution calling the tool is cancelled (or its process stops). */
  readonly signal?: AbortSignal;
}

/** What a BestOfN or Refine reward function sees of one candidate. */
export interface RewardInput {
  readonly input: FieldValues;
  readonly prediction: FieldValues;
  readonly attempt: number;
}

/** Scores a candidate; higher is better. */
export type RewardFunction = (candidate: RewardInput) => number | Promise<number>;

/** Picks one of several samples (MultiChainComparison); returns its index. */
export type SamplePicker = (samples: readonly FieldValues[]) => number | Promise<number>;

/** Called when re-reading bound variables failed; the execution goes on with the last good values. */
export type SyncErrorHandler = (
  error: Error,
  context: { readonly moduleType: string; readonly sessionId: string },
) => void;

/**
 * Receives streamed text: the output field and the characters added since the last call, or, with `restart`, the
 * first characters of the field started over (a retry, another sample), which replace what it held.
 */
export type DeltaListener = (field: string, delta: string, restart?: boolean) => void;
