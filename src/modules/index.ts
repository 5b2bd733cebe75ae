/**
 * Variable-aware LLM modules on Ax: module classes, the mixin, the registry and resolver, LLM configuration.
 * The public surface of this folder; no Ax type is exported from here.
 * @module
 */
export {
  BINDABLE_ATTRIBUTES,
  PROGRAM_PARAMETERS,
  THINKING_BUDGETS,
  isBindableAttribute,
  isProgramParameter,
  type BindableAttribute,
  type ExecutionParameters,
  type ModuleParameters,
  type ProgramParameter,
  type ProgramParameters,
  type ThinkingBudget,
} from './module-types.js';
export type {
  FieldValues,
  ForwardOptions,
  ModuleResult,
  ModuleTool,
  RewardFunction,
  RewardInput,
  SamplePicker,
  SyncErrorHandler,
  ToolCallContext,
  ToolParameters,
} from './module-types.js';
export type { ProgramKind, ProgramSettings } from './ax-program-runner.js';
export { ProgramModule, type ModuleOptions } from './program-module.js';
export {
  BestOfN,
  ChainOfThought,
  ChainOfThoughtWithHint,
  MultiChainComparison,
  Predict,
  ProgramOfThought,
  ReAct,
  Refine,
  type ModuleClass,
} from './programs.js';
export {
  VariableAwareMixin,
  type MixableModuleClass,
  type SyncCallback,
  type SyncChanges,
  type VariableAware,
} from './variable-aware-mixin.js';
export {
  VariableAwareBestOfN,
  VariableAwareChainOfThought,
  VariableAwareChainOfThoughtWithHint,
  VariableAwareMultiChainComparison,
  VariableAwarePredict,
  VariableAwareProgramOfThought,
  VariableAwareReAct,
  VariableAwareRefine,
} from './variable-aware-mixin.js';
export {
  ModuleRegistry,
  defaultModuleRegistry,
  type RegisteredModule,
  type VariableAwareModule,
  type VariableAwareModuleClass,
} from './module-registry.js';
export { normalizeModuleName } from './module-name.js';
export { ModuleVariableResolver, type ModuleVariableResolverOptions } from './module-variable-resolver.js';
export { createVariableAwareModule, type CreateVariableAwareModuleOptions } from './module-variable-resolver.js';
export {
  ECHO_MODEL_NAME,
  LanguageModel,
  createEchoModel,
  createLanguageModel,
  type ConfigNames,
  type ProviderConfig,
} from './language-model.js';
export { PROVIDER_ENV, languageModelFromEnv, readProviderConfig, type Environment } from './language-model.js';
export { ModuleHandle, type ExecuteOptions } from './module-handle.js';
export type { HeardModuleEvent, ModuleEventListener, ModuleEventType } from './module-event-type.js';
export type { ModuleApi } from './module-api.js';
export {
  assertModuleId,
  type ModuleBinding,
  type ModuleBindings,
  type ModuleSpec,
  type ModuleSpecFields,
  type ModuleTypeChoice,
} from './module-spec.js';
