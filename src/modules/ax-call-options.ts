/**
 * Translates {@link ModuleParameters} into Ax's per-call options. Ax silently drops `model` and `modelConfig`
 * given to a program's constructor, so these travel with every `forward()` and, for multi-step programs, are
 * re-applied between steps through the step context.
 * @module
 */
import type { AxModelConfig, AxProgramForwardOptions, AxStepContext } from '@ax-llm/ax';
import type { ModuleParameters } from './module-parameters.js';

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
