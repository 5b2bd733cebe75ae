/**
 * Where Refine's advice requests go. Between rounds Refine asks the model for advice on its instructions, a request
 * Ax sends with nothing of the execution's: the provider's default model, no max tokens, no way to stop it. Sent
 * through this service, it carries the execution's model and is stopped with the execution (a cancel, a timeout);
 * its settings (temperature, max tokens) are the execution's too, given to Refine as its `feedbackModelConfig`.
 * @module
 */
import type { AxAIService } from '@ax-llm/ax';

/** `service`, with every chat request sent for `model` (when given) and stopped by `abortSignal` (when given). */
export function adviceService(
  service: AxAIService,
  execution: { readonly model?: string | undefined; readonly abortSignal?: AbortSignal | undefined },
): AxAIService {
  const { model, abortSignal } = execution;
  if (model === undefined && abortSignal === undefined) return service;
  const chat: AxAIService['chat'] = (request, options) =>
    service.chat(
      model === undefined ? request : { ...request, model },
      abortSignal ? { ...options, abortSignal } : options,
    );
  // Everything else is the service's own.
  return Object.create(service, { chat: { value: chat } }) as AxAIService;
}
