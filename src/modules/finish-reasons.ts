/**
 * The finish reasons of OpenAI-protocol answers (`choices[i].finish_reason`), read in the raw answer, whole or
 * streamed, before Ax reads it. Ax's reader knows OpenAI's own (`stop`, `length`, `content_filter`, `tool_calls`)
 * and leaves any other without a finish reason, so the text so far was taken as the whole answer: Mistral's
 * `model_length` (cut at the model's context length) and DeepSeek's `insufficient_system_resource` (interrupted)
 * came out as results, truncated. Gateways that speak OpenAI's protocol in front of other providers pass those
 * providers' own reasons on, in their own case: Bedrock's `end_turn` (aws-samples/bedrock-access-gateway), Gemini's
 * `STOP` and `MAX_TOKENS`. So a reason is read whatever its case, and each is now one of:
 * - **whole**: OpenAI's `stop`, `tool_calls` and `function_call`, Anthropic's and Bedrock's `end_turn` and
 *   `tool_use`, `end`, Together's `eos`, Hugging Face TGI's `eos_token` and `stop_sequence`, Gemini's `STOP`: the
 *   answer is taken;
 * - **Ax's own**: `length` and `content_filter` as OpenAI spells them, which Ax (as `max_tokens`) and
 *   content-filter.ts report (Ax compares them exactly: in another case they are read here, as below);
 * - **cut at the context length**: Mistral's `model_length`, failing with {@link AnswerNotWholeError} (`max_tokens`);
 * - **cut at maxTokens**: Gemini's `MAX_TOKENS`, Anthropic's and Bedrock's `max_tokens`, `LENGTH`, failing alike;
 * - **filtered**: Gemini's `SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`, `BLOCKLIST` and `SPII`, Bedrock's
 *   `content_filtered` and `guardrail_intervened`, `CONTENT_FILTER`, failing with {@link ContentFilteredError}, as
 *   these providers' own filters do when Ax speaks to them directly;
 * - **interrupted**: DeepSeek's `insufficient_system_resource`, Mistral's and OpenRouter's `error`, vLLM's `abort`,
 *   failing with {@link AnswerInterruptedError}, which provider-errors.ts reports as `provider_unavailable`
 *   (`interrupted`), and which Ax sends again (`maxRetries`) as it does after a dropped connection;
 * - **any other**: nothing tells that the answer is whole, so it fails with {@link AnswerNotWholeError} (`invalid`)
 *   naming the reason, rather than be taken as complete.
 * @module
 */
import { AnswerVerdictError } from './answer-verdict.js';
import { ContentFilteredError } from './content-filter.js';
import { withBody } from './response-body.js';

/** The finish reasons that say the answer is whole, in lower case (see the module comment). */
const WHOLE = new Set([
  'stop',
  'end_turn',
  'end',
  'tool_calls',
  'tool_use',
  'function_call',
  'eos',
  'eos_token',
  'stop_sequence',
]);

/** The finish reasons Ax itself reads as an answer not to be taken, exactly as it compares them. */
const READ_BY_AX = new Set(['length', 'content_filter']);

/** The finish reasons of an answer cut at the model's context length, in lower case. */
const CONTEXT_LENGTH = new Set(['model_length']);

/** The finish reasons of an answer cut at the request's maxTokens, in lower case (OpenAI's `length` as Ax reads it). */
const MAX_TOKENS = new Set(['length', 'max_tokens']);

/** The finish reasons of an answer a content filter stopped, in lower case (OpenAI's `content_filter` as Ax reads it). */
const FILTERED = new Set([
  'content_filter',
  'content_filtered',
  'guardrail_intervened',
  'safety',
  'recitation',
  'prohibited_content',
  'blocklist',
  'spii',
]);

/** The finish reasons of an answer the provider stopped for a cause of its own, in lower case. */
const INTERRUPTED = new Set(['insufficient_system_resource', 'error', 'abort']);

/** How much of a finish reason no one knows is quoted. */
const QUOTED = 64;

/**
 * An answer its provider says is not whole (`max_tokens`: cut at the model's context length, or at the request's
 * maxTokens as `reached` says), or ended with a finish reason that does not say it is (`invalid`).
 * provider-errors.ts reports it as `model_answer_invalid` with `reason`.
 */
export class AnswerNotWholeError extends AnswerVerdictError {
  constructor(
    readonly finishReason: string,
    readonly reason: 'max_tokens' | 'invalid',
    reached: 'context_length' | 'max_tokens' = 'context_length',
  ) {
    const limit = reached === 'context_length' ? "the model's context length" : 'its max tokens (maxTokens)';
    super(
      reason === 'max_tokens'
        ? `the answer reached ${limit} before it was complete (finish reason '${finishReason}')`
        : `the provider ended the answer with finish reason '${finishReason}', which does not say it is complete`,
    );
    this.name = 'AnswerNotWholeError';
  }
}

/** An answer the provider stopped before it was complete, for a cause of its own (see the module comment). */
export class AnswerInterruptedError extends Error {
  constructor(readonly finishReason: string) {
    super(`the answer ended with finish reason '${finishReason}'`);
    this.name = 'AnswerInterruptedError';
  }
}

/**
 * The error the finish reasons of `answer` (a whole answer's JSON, or a streamed event's) stand for, `undefined` when
 * none says the answer is not whole: each of its choices is judged, one that has not finished yet passing.
 */
export function unfinishedChoiceOf(answer: unknown): Error | undefined {
  const choices = (answer as { choices?: unknown } | null | undefined)?.choices;
  if (!Array.isArray(choices)) return undefined;
  for (const choice of choices) {
    const reason = (choice as { finish_reason?: unknown } | null | undefined)?.finish_reason;
    if (typeof reason !== 'string' || reason === '' || READ_BY_AX.has(reason)) continue;
    // A gateway's `STOP` says what OpenAI's `stop` does.
    const known = reason.toLowerCase();
    if (WHOLE.has(known)) continue;
    if (CONTEXT_LENGTH.has(known)) return new AnswerNotWholeError(reason, 'max_tokens');
    if (MAX_TOKENS.has(known)) return new AnswerNotWholeError(reason, 'max_tokens', 'max_tokens');
    if (FILTERED.has(known)) return new ContentFilteredError();
    if (INTERRUPTED.has(known)) return new AnswerInterruptedError(reason);
    const quoted = reason.length > QUOTED ? `${reason.slice(0, QUOTED - 1)}…` : reason;
    return new AnswerNotWholeError(quoted, 'invalid');
  }
  return undefined;
}

/**
 * `fetch`, with a whole OpenAI-protocol answer failing as its finish reasons say ({@link unfinishedChoiceOf}). An
 * event stream passes as it is: answer-stream-check.ts judges its events as they come.
 */
export function fetchCheckingFinishReasons(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    if (!response.ok || !response.body || response.headers.get('content-type')?.includes('text/event-stream')) {
      return response;
    }
    const text = await response.text();
    // Parsed here only when it has a finish reason to judge: Ax parses every answer again anyway.
    if (text.includes('"finish_reason"')) {
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = undefined;
      }
      const failure = unfinishedChoiceOf(answer);
      if (failure) throw failure;
    }
    return withBody(response, text);
  };
}
