/**
 * Errors of an LLM provider and its model's answers, and of the tools a model calls.
 * @module
 */

import { BridgeError, type BridgeErrorOptions } from './bridge-error.js';

/**
 * ` <preposition> module '<id>'` when `options` name a module (details.moduleId): a module process's provider
 * failure names its module, here and when rebuilt from the wire.
 */
function forModule(options: BridgeErrorOptions, preposition: 'to' | 'for'): string {
  const { moduleId, model } = options.details ?? {};
  if (typeof moduleId !== 'string') return '';
  // The model too: a model variable switched to a name the provider does not serve fails as a 404 of that model.
  return ` ${preposition} module '${moduleId}'${typeof model === 'string' ? ` (model '${model}')` : ''}`;
}

/** The LLM provider refused or failed a request (HTTP error, authentication); the message carries its words. */
export class ProviderError extends BridgeError {
  override readonly code = 'provider_error';
  constructor(
    readonly provider: string,
    readonly status: number,
    readonly providerMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`provider '${provider}' answered HTTP ${status}${forModule(options, 'to')}: ${providerMessage}`, {
      ...options,
      details: { provider, status, providerMessage, ...options.details },
    });
  }
}

/** Why a provider gave no usable answer though it sent no HTTP error (see {@link ProviderUnavailableError}). */
export const PROVIDER_UNAVAILABLE_REASONS = ['unreachable', 'timeout', 'malformed_response', 'interrupted'] as const;

/** One of {@link PROVIDER_UNAVAILABLE_REASONS}. */
export type ProviderUnavailableReason = (typeof PROVIDER_UNAVAILABLE_REASONS)[number];

const UNAVAILABLE_PHRASES: Record<ProviderUnavailableReason, string> = {
  unreachable: 'could not be reached',
  timeout: 'did not answer in time',
  malformed_response: 'answered with a body that is not a chat completion',
  interrupted: 'stopped its answer before it was complete',
};

/**
 * The provider gave no answer an execution could read, without an HTTP error to say why: its address could not be
 * reached or its connection dropped before the answer was complete (`unreachable`), it did not answer within Ax's
 * timeout (`timeout`), or it answered with a body that is not a chat completion: not JSON, as a proxy's error page
 * is, or JSON of another shape, as a gateway's error object sent with HTTP 200 is (`malformed_response`), or it
 * stopped its answer before it was complete for a cause of its own, as DeepSeek's finish reason
 * `insufficient_system_resource` says (`interrupted`). Unlike an `internal_error`, it is the provider's or the
 * network's state, not Tether's, and worth retrying as a 503 from the provider is; on the wire its status is 502 (a
 * bad gateway: the node is fine).
 */
export class ProviderUnavailableError extends BridgeError {
  override readonly code = 'provider_unavailable';
  constructor(
    readonly provider: string,
    readonly reason: ProviderUnavailableReason,
    readonly providerMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`provider '${provider}' ${UNAVAILABLE_PHRASES[reason]}${forModule(options, 'for')}: ${providerMessage}`, {
      ...options,
      details: { provider, reason, providerMessage, ...options.details },
    });
  }
}

/**
 * A tool of a ReAct module threw while an execution was running it, so the execution failed. Ax does not hand a
 * tool's error back to the model (only its own argument-validation errors), it ends the program; `toolMessage` is
 * what the tool threw, and `details.toolErrorCode` the code of a Tether error it threw (say a variable write the
 * tool made was refused). A tool that wants the model to see a failure and carry on returns it as its result.
 */
export class ToolFailedError extends BridgeError {
  override readonly code = 'tool_failed';
  constructor(
    readonly tool: string,
    readonly toolMessage: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`tool '${tool}' failed: ${toolMessage}`, { ...options, details: { tool, toolMessage, ...options.details } });
  }
}

/**
 * Why a model's answer was of no use (see {@link ModelAnswerError}): `invalid`, a field the signature asks for was
 * missing or its value was not of the field's type or class, the model refused (an OpenAI `refusal`), or a ReAct
 * answer called a tool that does not exist, still so after the module's `maxRetries` corrections, or called one with
 * arguments that are not JSON, or the provider ended the answer with a finish reason that does not say it is complete;
 * `max_steps`, a ReAct module used its `maxSteps` without a final answer; `max_tokens`, the provider cut the answer
 * off at its max tokens (`maxTokens`), or at the model's context length (Mistral's `model_length`), before it was
 * complete; `content_filter`, the provider's content filter stopped the answer.
 */
export const MODEL_ANSWER_PROBLEMS = ['invalid', 'max_steps', 'max_tokens', 'content_filter'] as const;

/** One of {@link MODEL_ANSWER_PROBLEMS}. */
export type ModelAnswerProblem = (typeof MODEL_ANSWER_PROBLEMS)[number];

/**
 * The provider answered, but the model's answer could not be used: the signature's fields were not in it as the
 * signature types them, or a ReAct module ran out of steps (`reason`, `problem` says what). Neither the node's nor
 * the provider's fault, nor the caller's inputs: another try may do (models vary), a clearer signature or
 * instruction, a more capable model or more steps will. On the wire its status is 502, as the provider's answer
 * is what was bad.
 */
export class ModelAnswerError extends BridgeError {
  override readonly code = 'model_answer_invalid';
  constructor(
    readonly provider: string,
    readonly reason: ModelAnswerProblem,
    readonly problem: string,
    options: BridgeErrorOptions = {},
  ) {
    super(`the answer of provider '${provider}'${forModule(options, 'for')} could not be used: ${problem}`, {
      ...options,
      details: { provider, reason, problem, ...options.details },
    });
  }
}
