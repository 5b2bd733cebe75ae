/**
 * The seam between Tether's module types and Ax. It records which Ax service stands behind each LanguageModel
 * (kept out of `language-model.ts`, whose declarations are public) and translates ModuleParameters into Ax's
 * per-call options: Ax silently drops `model` and `modelConfig` given to a program's constructor, so these
 * travel with every `forward()` and, for multi-step programs, are re-applied between steps. A ReAct module's
 * tools become Ax functions here too.
 * @module
 */
import {
  axGlobals,
  type AxAIService,
  type AxFieldType,
  type AxFunction,
  type AxFunctionJSONSchema,
  type AxModelConfig,
  type AxProgramForwardOptions,
  type AxStepContext,
} from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { messageOf } from '../printable.js';
import { show } from '../variables/failure.js';
import type { LanguageModel } from './language-model.js';
import { BINDABLE_ATTRIBUTES, type ModuleParameters, type ModuleTool } from './module-types.js';
import { lostInJson } from './lost-in-json.js';
import { toolFailure } from './provider-errors.js';
import { assertToolParameters, checkToolArguments, NO_PARAMETERS } from './tool-arguments.js';

/** The sampling part of the parameters, as Ax's `modelConfig`. */
export function toModelConfig(params: ModuleParameters): AxModelConfig {
  const config: AxModelConfig = {};
  if (params.temperature !== undefined) config.temperature = params.temperature;
  if (params.maxTokens !== undefined) config.maxTokens = params.maxTokens;
  if (params.topP !== undefined) config.topP = params.topP;
  if (params.topK !== undefined) config.topK = params.topK;
  if (params.presencePenalty !== undefined) config.presencePenalty = params.presencePenalty;
  if (params.frequencyPenalty !== undefined) config.frequencyPenalty = params.frequencyPenalty;
  if (params.stopSequences !== undefined) config.stopSequences = [...params.stopSequences];
  return config;
}

/** Everything one execution sends: model, modelConfig, thinking budget and the retry/step bounds. */
export function toForwardOptions(params: ModuleParameters): AxProgramForwardOptions<string> {
  const options: AxProgramForwardOptions<string> = { modelConfig: toModelConfig(params) };
  if (params.model !== undefined) options.model = params.model;
  if (params.thinkingTokenBudget !== undefined) options.thinkingTokenBudget = params.thinkingTokenBudget;
  if (params.maxRetries !== undefined) options.maxRetries = params.maxRetries;
  if (params.maxSteps !== undefined) options.maxSteps = params.maxSteps;
  return options;
}

/** What Ax fixes for a whole run when it starts: no step can change them (see {@link applyToStep}). */
const RUN_ATTRIBUTES: ReadonlySet<string> = new Set(['maxRetries', 'maxSteps', 'instructions', 'examples']);

/**
 * The attributes {@link applyToStep} changes between steps; every other one (`instructions`, `examples`, `maxSteps`,
 * `maxRetries`, the program parameters) keeps, for the whole run, the value the execution started with.
 */
export const STEP_ATTRIBUTES: ReadonlySet<string> = new Set(
  BINDABLE_ATTRIBUTES.filter((attribute) => !RUN_ATTRIBUTES.has(attribute)),
);

/**
 * Queues fresh parameters on a step context; Ax applies them to the request of the step about to start
 * (`applyStepContextMutations` in dsp/generate.ts runs right after `beforeStep`). `maxSteps` and `instructions`
 * cannot change mid-run: Ax fixes them when the execution starts.
 */
export function applyToStep(ctx: AxStepContext, params: ModuleParameters): void {
  if (params.model !== undefined) ctx.setModel(params.model);
  if (params.thinkingTokenBudget !== undefined) ctx.setThinkingBudget(params.thinkingTokenBudget);
  ctx.setOptions({ modelConfig: toModelConfig(params) });
}

/**
 * A module tool as an Ax function, whose failures name the tool (see `toolFailure`) and whose arguments are checked
 * against its `parameters` before it runs (see `tool-arguments.ts`).
 * @throws {ValidationError} when its `parameters` is not a JSON Schema
 */
export function toAxFunction(tool: ModuleTool): AxFunction {
  assertToolParameters(tool);
  return {
    name: tool.name,
    description: tool.description,
    parameters: (tool.parameters ?? NO_PARAMETERS) as unknown as AxFunctionJSONSchema,
    func: async (args?: unknown, extra?: { readonly abortSignal?: AbortSignal }) => {
      const signal = extra?.abortSignal;
      // Not the tool's failure: the model's arguments, which it is told to correct.
      checkToolArguments(tool, args ?? {});
      try {
        const result = await tool.func((args ?? {}) as Record<string, unknown>, signal ? { signal } : {});
        shownToModel(result);
        return result;
      } catch (error) {
        // Named here, where the tool is known: by the time Ax rethrows it, it only says "Generate failed".
        throw toolFailure(tool.name, error, signal);
      }
    },
  };
}

/**
 * Throws unless Ax can show `result` to the model: Ax formats it (as JSON, unless it is text) outside the tool's call,
 * where a value JSON cannot carry failed the execution without naming the tool (a bigint, a cycle) or reached the
 * model as something else (a Map or a Set as `{}`, a function as nothing, `NaN` as `null`), the tool's data lost.
 */
function shownToModel(result: unknown): void {
  try {
    axGlobals.functionResultFormatter(result);
    if (typeof result !== 'string' && result !== null && result !== undefined) JSON.stringify(result, refuseLost);
  } catch (error) {
    throw new Error(`returned a value the model cannot be shown: ${messageOf(error)}`, { cause: error });
  }
}

/** A `JSON.stringify` replacer that throws at a value JSON would drop or change (after `toJSON`: a Date is text). */
function refuseLost(key: string, value: unknown): unknown {
  const lost = lostInJson(value);
  if (lost === undefined) return value;
  throw new Error(`${key === '' ? 'the result' : `its '${key}'`} is ${lost}, which JSON cannot carry`);
}

const services = new WeakMap<LanguageModel, AxAIService>();
/** What Ax puts in the `model` field of a request that names none, by language model. */
const defaultModels = new WeakMap<LanguageModel, string>();

/**
 * @internal Pairs a model with its Ax service and the model its requests name when a module names none (the language
 * model's default, else the provider's, as Ax sends it); for this folder's factories only.
 */
export function registerService(model: LanguageModel, service: AxAIService, defaultModel: string): void {
  services.set(model, service);
  defaultModels.set(model, defaultModel);
}

/** @internal The model a request of `model` names when its module names none (see {@link registerService}). */
export function sentDefaultModel(model: LanguageModel): string {
  return defaultModels.get(model) ?? model.defaultModel ?? model.provider;
}

/**
 * Throws `ValidationError` unless `model` was built by `createLanguageModel` (or `createEchoModel`): a runtime given
 * anything else would start, and fail its first execution.
 */
export function assertLanguageModel(model: unknown): asserts model is LanguageModel {
  if (typeof model === 'object' && model !== null && services.has(model as LanguageModel)) return;
  throw new ValidationError(`llm must be a language model from createLanguageModel, got ${show(model)}`, {
    details: { option: 'llm' },
  });
}

/** @internal The Ax service behind a model; only module internals call this. */
export function axServiceOf(model: LanguageModel): AxAIService {
  const service = services.get(model);
  if (!service) throw new ValidationError(`language model '${model.toString()}' was not built by createLanguageModel`);
  return service;
}

/** A field from Ax's fluent builder as its field-type parameter: the two disagree under exactOptionalPropertyTypes. */
export function asField(field: unknown): AxFieldType {
  return field as AxFieldType;
}
