/**
 * The checks of a streamed answer, read event by event (event-stream-reader.ts) before Ax sees it:
 * - **cut off**: a provider's stream says somewhere that it is complete: a finish reason with a value (OpenAI's
 *   `finish_reason`, Anthropic's `stop_reason`, Gemini's `finishReason`) or an end marker (OpenAI's `data: [DONE]`,
 *   Anthropic's `message_stop` event). A stream that closes cleanly with neither was cut off on its way (a proxy or a
 *   load balancer closing it), and Ax would take the text so far as the whole answer: a wrong answer given as a
 *   result. Read in the raw events, not in Ax's deltas, where a finish reason Ax does not know (`eos`,
 *   `model_length`) is lost; and as fields of the events, never as text: a model's answer may well say `[DONE]`.
 *   Such a stream fails with {@link AnswerCutOffError}, which provider-errors.ts reports as a connection dropped
 *   mid-answer: `provider_unavailable` (`unreachable`). A stream of several answers (choices) is complete only when
 *   each of them says so.
 * - **not JSON**: an event garbled or cut by a proxy. Ax skips such an event, printing its raw text to the process's
 *   output (the user's data in a service's logs), and gives the rest of the stream as the whole answer. Such a stream
 *   fails with {@link MalformedStreamEventError}, a `SyntaxError` as Ax's own parse of a body that is not JSON is,
 *   which provider-errors.ts reports as `provider_unavailable` (`malformed_response`).
 * - **an error event**: a provider that fails after it began the answer says so in an event of the stream,
 *   `{"error": {"message": ...}}` (OpenAI, vLLM, LiteLLM; Anthropic's `{"type": "error", "error": {...}}`). Ax reads
 *   it as a chunk and fails on its missing `choices` with a `TypeError`, the provider's words lost. Such a stream
 *   fails with {@link AnswerErrorEventError}, which provider-errors.ts reports as `provider_unavailable`
 *   (`malformed_response`) quoting the provider, as it reports the same error object sent as a whole answer.
 * - **a finish reason that is no whole answer's**, for a provider speaking OpenAI's protocol: the `checkEvent` given
 *   (finish-reasons.ts's), which judges the finish reasons Ax would drop (`model_length`,
 *   `insufficient_system_resource`, one no one knows); the stream fails with the error it finds.
 *
 * Nothing after `[DONE]` is read, as Ax reads nothing after it.
 * @module
 */
import { EventStreamReader, type StreamEvent } from './event-stream-reader.js';
import { blockedPromptOf } from './content-filter.js';
import { withBody } from './response-body.js';

/** The fields whose text value says that the answer is complete (see the module comment). */
const FINISH_FIELDS = new Set(['finish_reason', 'stop_reason', 'finishReason']);

/** How deep in an event a finish reason is looked for: OpenAI's is at `choices[i]`, Anthropic's at `delta`. */
const FINISH_DEPTH = 3;

/** How much of an event that is not JSON the error quotes. */
const QUOTED = 200;

/** A streamed answer closed without saying it was complete. */
export class AnswerCutOffError extends Error {
  constructor() {
    super('the answer stream ended before the answer did (no finish reason, no end marker): it was cut off');
    this.name = 'AnswerCutOffError';
  }
}

/** A streamed answer's event that is not JSON. */
export class MalformedStreamEventError extends SyntaxError {
  constructor(data: string) {
    const quoted = data.length > QUOTED ? `${data.slice(0, QUOTED - 1)}…` : data;
    super(`the provider's answer stream carried an event that is not JSON: ${quoted}`);
    this.name = 'MalformedStreamEventError';
  }
}

/**
 * A streamed answer's event that is the provider's error instead of a part of the answer; `error` is the event's
 * `error` member, whose message provider-errors.ts quotes.
 */
export class AnswerErrorEventError extends Error {
  constructor(readonly error: unknown) {
    super("the provider's answer stream ended with an error event");
    this.name = 'AnswerErrorEventError';
  }
}

/**
 * `fetch`, with each event stream it returns failing with {@link MalformedStreamEventError} at an event that is not
 * JSON, with {@link AnswerErrorEventError} at an event that is the provider's error, with what `checkEvent` finds in
 * an event's JSON, and with {@link AnswerCutOffError} when it ends incomplete.
 */
export function fetchCheckingAnswerStreams(
  fetch: typeof globalThis.fetch = globalThis.fetch,
  checkEvent: (event: unknown) => Error | undefined = () => undefined,
) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;
    const reader = new EventStreamReader();
    const finishes = new ChoiceFinishes();
    let endMarked = false;
    let ended = false;
    /** The error `events` make the stream fail with, `undefined` when there is none. */
    const judge = (events: readonly StreamEvent[]): Error | undefined => {
      for (const event of events) {
        if (ended) return undefined;
        if (event.data.trim() === '[DONE]') {
          endMarked = ended = true;
          return undefined;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(event.data);
        } catch {
          return new MalformedStreamEventError(event.data);
        }
        const failure = errorOf(parsed) ?? blockedPromptOf(parsed) ?? checkEvent(parsed);
        if (failure) return failure;
        if (event.type === 'message_stop') endMarked = true;
        else finishes.take(parsed);
      }
      return undefined;
    };
    const checked = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const error = ended ? undefined : judge(reader.read(chunk));
          if (error) controller.error(error);
          else controller.enqueue(chunk);
        },
        flush(controller) {
          const error =
            (ended ? undefined : judge(reader.end())) ??
            (endMarked || finishes.complete ? undefined : new AnswerCutOffError());
          if (error) controller.error(error);
        },
      }),
    );
    return withBody(response, checked);
  };
}

/** The error a JSON `value` (an event, an answer) reports in place of a part of the answer, if it does. */
export function errorOf(value: unknown): AnswerErrorEventError | undefined {
  if (typeof value !== 'object' || value === null || !('error' in value)) return undefined;
  const { error } = value as { error: unknown };
  return error !== null && (typeof error === 'object' || typeof error === 'string')
    ? new AnswerErrorEventError(error)
    : undefined;
}

/**
 * The finish reasons of a stream's answers. A request for several answers at once (OpenAI's `n`, as a
 * MultiChainComparison asks for its samples; Gemini's candidates) streams each as a choice of its own, finished
 * each on its own: one choice's finish reason says nothing of the others, and a stream cut while one of them was
 * still being written would give it, cut short, as a whole sample. So the stream is complete once every choice it
 * carried has finished; an event without choices (Anthropic's) finishes the whole answer.
 */
class ChoiceFinishes {
  /** Each choice seen, by its index, and whether it said it finished (a later event of it cannot take that back). */
  readonly #choices = new Map<unknown, boolean>();
  #finished = false;

  /** Takes what `event`, an event's JSON, says of its choices. */
  take(event: unknown): void {
    const choices = choicesOf(event);
    if (!choices) {
      this.#finished ||= saysFinished(event, FINISH_DEPTH);
      return;
    }
    choices.forEach((choice, position) => {
      const index = (choice as { index?: unknown } | null)?.index ?? position;
      const finished = this.#choices.get(index) === true || saysFinished(choice, FINISH_DEPTH - 1);
      this.#choices.set(index, finished);
      this.#finished ||= finished;
    });
  }

  /** Whether some answer finished and no choice is left unfinished. */
  get complete(): boolean {
    return this.#finished && [...this.#choices.values()].every(Boolean);
  }
}

/** The answers an event carries one per element: OpenAI's `choices`, Gemini's `candidates`. */
function choicesOf(event: unknown): readonly unknown[] | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { choices, candidates } = event as { choices?: unknown; candidates?: unknown };
  if (Array.isArray(choices)) return choices;
  return Array.isArray(candidates) ? candidates : undefined;
}

/** Whether `value`, an event's JSON, holds a finish reason with a value, or is Anthropic's `message_stop`. */
function saysFinished(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth < 0) return false;
  if (Array.isArray(value)) return value.some((item) => saysFinished(item, depth - 1));
  for (const [key, field] of Object.entries(value)) {
    if (FINISH_FIELDS.has(key) && typeof field === 'string' && field !== '') return true;
    if (key === 'type' && field === 'message_stop') return true;
    if (saysFinished(field, depth - 1)) return true;
  }
  return false;
}
