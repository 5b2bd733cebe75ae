/**
 * What one execution's requests asked for and used: the model each request named and the tokens each answer
 * reported. Counted on a service wrapping the model's (its `chat` counted) that no other execution uses meanwhile:
 * a pooled generator keeps one, reset for each execution it serves (one at a time), made once rather than per
 * execution (a wrapper per execution cost the embedded module-overhead bench some 5 %), and a program built for one
 * execution (ProgramOfThought's agent) has its own. So every request of the execution is seen (ReAct's steps, Ax's
 * retries, samples, BestOfN's and Refine's candidates, Refine's advice, ProgramOfThought's stages) and none of
 * another execution, whatever runs at the same time. Ax's own usage records
 * cannot say that much: they are kept per program (a pooled generator serves one execution at a time, but BestOfN
 * and Refine clear them between rounds, and Refine's advice and ProgramOfThought run programs of their own).
 * @module
 */
import type { AxAIService, AxChatResponse, AxTokenUsage } from '@ax-llm/ax';
import type { ExecutionUsage } from '../../machines/module.types.js';

/** Counts the model and the tokens of the requests sent through {@link UsageMeter.service}. */
export class UsageMeter {
  /** The service to run the execution on: the model's own, each chat request counted. */
  readonly service: AxAIService;
  /** The model the last request named, or the one Ax sends when it named none. */
  #model: string | undefined;
  #prompt = 0;
  #completion = 0;
  #total = 0;
  /** Whether any answer reported its tokens: an execution none did has no usage, rather than one of zero. */
  #reported = false;

  /**
   * @param service the language model's Ax service
   * @param defaultModel what Ax puts in a request that names no model (the language model's, else the provider's
   * default; the echo's name for the offline model, which it reports)
   */
  constructor(
    /** The service counted: the language model's. */
    readonly source: AxAIService,
    readonly defaultModel: string,
  ) {
    const counted = (answer: Awaited<ReturnType<AxAIService['chat']>>): typeof answer => {
      if (!(answer instanceof ReadableStream)) {
        this.#add(answer.modelUsage?.tokens);
        return answer;
      }
      // A stream's usage comes in one of its last events; Ax takes the last one it sees, and so does this.
      let tokens: AxTokenUsage | undefined;
      return answer.pipeThrough(
        new TransformStream<AxChatResponse, AxChatResponse>({
          transform: (event, controller) => {
            if (event.modelUsage?.tokens) tokens = event.modelUsage.tokens;
            controller.enqueue(event);
          },
          flush: () => this.#add(tokens),
        }),
      );
    };
    const chat: AxAIService['chat'] = (request, options) => {
      this.#model = typeof request.model === 'string' ? request.model : defaultModel;
      return source.chat(request, options).then(counted);
    };
    // Everything else is the service's own (as advice-service.ts does): Ax reads its features, options and models.
    this.service = Object.create(source, { chat: { value: chat } }) as AxAIService;
  }

  /** Forgets what it counted: the next execution on it starts from nothing. */
  reset(): void {
    this.#model = undefined;
    this.#prompt = this.#completion = this.#total = 0;
    this.#reported = false;
  }

  /** The model the execution's requests asked for: the last one's (a bound model may change between steps). */
  model(requested: string | undefined): string {
    return this.#model ?? requested ?? this.defaultModel;
  }

  /** The tokens the execution's answers reported, summed; `undefined` when none reported any. */
  usage(): ExecutionUsage | undefined {
    if (!this.#reported) return undefined;
    return { promptTokens: this.#prompt, completionTokens: this.#completion, totalTokens: this.#total };
  }

  #add(tokens: AxTokenUsage | undefined): void {
    if (!tokens) return;
    this.#reported = true;
    this.#prompt += finite(tokens.promptTokens);
    this.#completion += finite(tokens.completionTokens);
    this.#total += finite(tokens.totalTokens);
  }
}

/** A count as a number to add: a provider's answer may lack one. */
function finite(count: unknown): number {
  return typeof count === 'number' && Number.isFinite(count) ? count : 0;
}
