/**
 * Whether a module's model takes its `thinkingTokenBudget`. Ax's OpenAI-protocol providers other than `openai` (its
 * profile classes: `openai-compatible`, `ollama`, `groq`, `mistral`, `deepseek`, `together`, `openrouter`, `cohere`,
 * `reka`, `huggingface`, `grok`, …) refuse any level but `none` for a model their profile does not list as a thinking
 * one ("Thinking is not verified for profile groq and model llama-3.3-70b-versatile"), before any request is made:
 * every execution of such a module failed, reported as Tether's own fault (`internal_error`). It is the user's
 * setting that the provider and model cannot take, so:
 * - a module created from a spec asks Ax's profile the same question (`axResolveAIProfileFeatures`) and is refused
 *   with a `ValidationError` naming `thinkingTokenBudget` ({@link thinkingBudgetRefusal});
 * - Ax's refusal at an execution (a binding changed the model or the level since) is said alike
 *   ({@link thinkingRefusalIn}), and nothing is sent.
 * `openai` sends the level whatever the model, and the other transports (Anthropic's, Gemini's, Responses) have no
 * such check: neither is refused.
 * @module
 */
import { AxAIOpenAIProfile, axGetAIProfile, axResolveAIProfileFeatures, type AxAIService } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import type { LanguageModel } from './language-model.js';

/** How Ax words its refusal (ai/provider_profiles.ts, applyProfileChatRequest). */
const AX_THINKING_REFUSAL = /^Thinking is not verified for profile (\S+) and model (.+?); /;

/**
 * The refusal of a module on `llm` (whose Ax service is `service`) with `model` (unset: the language model's default)
 * and `budget`, when Ax would refuse to send them; `undefined` when it would send them.
 */
export function thinkingBudgetRefusal(
  llm: LanguageModel,
  service: AxAIService,
  model: string | undefined,
  budget: string | undefined,
): ValidationError | undefined {
  if (budget === undefined || budget === 'none') return undefined;
  // Ax's wrapper from `ai()` holds the provider's service; only its profile class makes the check.
  const inner = (service as unknown as { ai?: unknown }).ai;
  if (!(inner instanceof AxAIOpenAIProfile)) return undefined;
  const used = model ?? llm.defaultModel ?? axGetAIProfile(llm.provider).defaultModel;
  if (used === undefined || axResolveAIProfileFeatures(llm.provider, used).thinking) return undefined;
  return refusal(llm.provider, used, budget);
}

/** Ax's refusal of a thinking budget somewhere in `error`'s cause chain, said as {@link thinkingBudgetRefusal} does. */
export function thinkingRefusalIn(error: unknown): ValidationError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const said = AX_THINKING_REFUSAL.exec(current.message);
    if (said) return refusal(said[1]!, said[2]!, undefined, error);
    current = current.cause;
  }
  return undefined;
}

function refusal(provider: string, model: string, budget: string | undefined, cause?: unknown): ValidationError {
  const level = budget === undefined ? '' : ` '${budget}'`;
  return new ValidationError(
    `thinkingTokenBudget${level} cannot go to provider '${provider}' with model '${model}': Ax does not know that ` +
      `model to think; set it to 'none' or leave it unset`,
    { ...(cause === undefined ? {} : { cause }), details: { field: 'thinkingTokenBudget', provider, model } },
  );
}
