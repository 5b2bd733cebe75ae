/**
 * Internal, for benchmarks only (not exported from the folder's index): a plain Ax forward with the same per-call
 * options a module sends, on a fixed-answer mock, so the bench can measure what the variable-aware layer adds.
 * Lives here because only `src/modules/` may import Ax.
 * @module
 */
import { AxGen, AxMockAIService, AxSignature } from '@ax-llm/ax';
import type { AxChatResponse, AxGenIn, AxGenOut } from '@ax-llm/ax';
import { axServiceOf, registerService, toForwardOptions } from './ax-bridge.js';
import { LanguageModel } from './language-model.js';
import type { FieldValues, ModuleParameters } from './module-types.js';

/**
 * Ax's mock service answering one fixed response. `chat` answers directly: the mock's own records every call's
 * latency in an array it never trims and sorts a copy of on each call, which would put a growing cost into
 * both sides of the comparison (see echo-model.ts).
 */
class FixedAnswerService extends AxMockAIService<string> {
  constructor(private readonly response: AxChatResponse) {
    super({ name: 'bench-mock' });
  }

  override async chat(): Promise<AxChatResponse> {
    return this.response;
  }
}

/** A language model answering `Answer: ok` at once: the bench's "same mock AI" for both sides. */
export function createFixedAnswerModel(answer = 'ok'): LanguageModel {
  const service = new FixedAnswerService({
    results: [{ index: 0, content: `Answer: ${answer}`, finishReason: 'stop' }],
    modelUsage: {
      ai: 'bench-mock',
      model: 'bench-mock',
      tokens: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    },
  });
  const model = new LanguageModel('bench-mock', undefined);
  registerService(model, service, 'bench-mock');
  return model;
}

/**
 * A raw Ax program as a user would write it: one generator, reused, options passed to every forward. It asks for a
 * whole answer (`stream: false`), as a module's execution without a delta listener does: Ax streams when `stream` is
 * left out, which to a real provider is another request.
 */
export function createRawAxForward(
  llm: LanguageModel,
  signature: string,
): (values: FieldValues, params: ModuleParameters) => Promise<FieldValues> {
  const gen = new AxGen<AxGenIn, AxGenOut>(AxSignature.from(signature));
  const service = axServiceOf(llm);
  return (values, params) => {
    const options = toForwardOptions(params);
    options.stream = false;
    return gen.forward(service, values as AxGenIn, options);
  };
}
