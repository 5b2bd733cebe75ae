/**
 * The boundary where Ax's errors become Tether's: provider HTTP failures turn into `ProviderError` carrying the
 * provider's own message, a provider that could not be reached, timed out or answered a body that is not a chat
 * completion into `ProviderUnavailableError`, a ReAct tool's failure into the `ToolFailedError` its wrapper threw, a
 * model's answer Ax could not use into `ModelAnswerError`; everything else an execution throws becomes an
 * `InternalError` that keeps its cause.
 * @module
 */
import {
  AxAIServiceAuthenticationError,
  AxAIServiceError,
  AxAIServiceNetworkError,
  AxAIServiceStreamTerminatedError,
  AxAIServiceTimeoutError,
  AxFunctionError,
  AxAIServiceStatusError,
  AxRefineError,
  type AxAIService,
  type AxIField,
} from '@ax-llm/ax';
import { AnswerTimeoutError } from './answer-deadline.js';
import { AnswerCutOffError, AnswerErrorEventError } from './answer-stream-check.js';
import { ContentFilteredError, filteredPromptOf } from './content-filter.js';
import { AnswerInterruptedError, AnswerNotWholeError } from './finish-reasons.js';
import { missingFieldsIn } from './generator-pool.js';
import { providerBodyOf, providerMessageOf } from './provider-message.js';
import { takeRefusalStatus } from './refusal-status.js';
import { thinkingRefusalIn } from './thinking-support.js';
import {
  BridgeError,
  InternalError,
  ModelAnswerError,
  ProviderError,
  ProviderUnavailableError,
  ToolFailedError,
  type ModelAnswerProblem,
  type ProviderUnavailableReason,
} from '../errors.js';
import { cutText, messageOf, printable } from '../printable.js';

/** Ax wraps the transport error in AxGenerateError (sometimes twice); the HTTP failure is down the cause chain. */
function findInChain<T>(error: unknown, match: (e: unknown) => e is T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (match(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Why Ax's transport failure `error` left no answer, with what it said: a fetch that failed (refused, reset, DNS),
 * a timeout, or a body that is not JSON (Ax reports
 * the parse as a network error, with the `SyntaxError` as its original). Other service errors (an HTTP status; Ax's
 * response error, which it also raises for a request it finds invalid) are not this.
 */
function unavailableReason(
  error: AxAIServiceError,
): { readonly reason: ProviderUnavailableReason; readonly message: string } | undefined {
  if (error instanceof AxAIServiceTimeoutError) return { reason: 'timeout', message: error.message };
  // A stream that ends before its answer does is a connection that dropped.
  if (error instanceof AxAIServiceStreamTerminatedError) return { reason: 'unreachable', message: error.message };
  if (!(error instanceof AxAIServiceNetworkError)) return undefined;
  const original = error.originalError;
  // The answer's body outlived its request's time (answer-deadline.ts), or its stream was cut off
  // (answer-stream-check.ts).
  if (original instanceof AnswerTimeoutError) return { reason: 'timeout', message: original.message };
  if (original instanceof AnswerCutOffError) return { reason: 'unreachable', message: original.message };
  if (original instanceof AnswerInterruptedError) return { reason: 'interrupted', message: original.message };
  if (original instanceof AnswerErrorEventError) {
    const said = providerMessageOf({ error: original.error }, JSON.stringify(original.error));
    return { reason: 'malformed_response', message: cutText(said, 500) };
  }
  if (original instanceof SyntaxError) return { reason: 'malformed_response', message: original.message };
  // `fetch failed` alone says nothing: its cause tells refused, reset, not found (`connect ECONNREFUSED 10.0.0.5:443`).
  const why = (original as { cause?: { message?: unknown } } | undefined)?.cause?.message;
  const text = original?.message ?? error.message;
  return { reason: 'unreachable', message: typeof why === 'string' && why !== '' ? `${text}: ${why}` : text };
}

/** Ax's check of a provider's answer (`axValidateChatResponseResult`): no result, or a result with nothing in it. */
const AX_RESPONSE_INVALID = /^Chat response results? /;
/** Where Ax's provider code reads a response body into results: a TypeError thrown there is a body of another shape. */
const AX_RESPONSE_READERS = /\.createChat(?:Stream)?Resp \(/;

/**
 * What Ax said of a provider's JSON answer that is not a chat completion (`{}`, `choices: []`, a choice without its
 * message), when `error` is that: Ax raises these as plain errors, so only their text and where they were thrown tell
 * them from a fault of Tether's. `provider-failure-naming.test.ts` sends each shape from the OpenAI-protocol stub.
 */
function malformedAnswer(error: unknown): string | undefined {
  const said = findInChain(
    error,
    (e): e is Error =>
      e instanceof Error &&
      (AX_RESPONSE_INVALID.test(e.message) || (e instanceof TypeError && AX_RESPONSE_READERS.test(e.stack ?? ''))),
  );
  // Ax appends the offending results as indented JSON; the sentence before it is what was wrong.
  return said?.message.split(', received:')[0]!.split('\n')[0];
}

/** The start of Ax's error when a model's answers kept failing the signature, after its `maxRetries` corrections. */
const AX_ANSWER_INVALID = 'Unable to fix validation error: ';
/** The start of Ax's error when a multi-step (ReAct) program took its `maxSteps` without a final answer. */
const AX_MAX_STEPS = /^Max steps reached: (\d+)/;
/** The start of Ax's error when the model called a tool with arguments that are not JSON (Ax asks for no fix). */
const AX_ARGUMENTS_NOT_JSON = 'Invalid function arguments: ';
/** The start of Ax's error when the provider stopped the answer at its max tokens (`finish_reason: "length"`). */
const AX_MAX_TOKENS = 'Max tokens reached before completion';

/**
 * What was wrong with the model's answer, when `error` says Ax could not use it. Ax raises these as plain errors
 * (wrapped or not in its AxGenerateError), so only their text tells them; `model-answer-errors.test.ts` runs each
 * on the OpenAI-protocol stub, so an Ax that words them otherwise fails there, not silently here.
 */
function unusableAnswer(error: unknown): { readonly reason: ModelAnswerProblem; readonly problem: string } | undefined {
  const said = findInChain(
    error,
    (e): e is Error =>
      e instanceof Error &&
      (e.message.startsWith(AX_ANSWER_INVALID) ||
        e.message.startsWith(AX_ARGUMENTS_NOT_JSON) ||
        e.message.startsWith(AX_MAX_TOKENS) ||
        AX_MAX_STEPS.test(e.message)),
  );
  if (!said) return undefined;
  if (said.message.startsWith(AX_MAX_TOKENS))
    return { reason: 'max_tokens', problem: 'the answer reached its max tokens (maxTokens) before it was complete' };
  const steps = AX_MAX_STEPS.exec(said.message);
  if (steps) return { reason: 'max_steps', problem: `no final answer within ${steps[1]} steps (maxSteps)` };
  if (said.message.startsWith(AX_ARGUMENTS_NOT_JSON)) {
    const given = said.message.slice(AX_ARGUMENTS_NOT_JSON.length).split('\n')[0]!;
    return { reason: 'invalid', problem: `a tool call's arguments are not JSON: ${given}` };
  }
  // Ax goes on with advice to the model and the model's whole output; the first line is what was wrong.
  const problem = said.message.slice(AX_ANSWER_INVALID.length).split('\n')[0]!;
  return { reason: 'invalid', problem };
}

/** How Ax's own check of an answer names the required output fields it lacks (by their titles: `'Final Note'`). */
const AX_FIELDS_MISSING =
  /^(?:Required field not found|Expected \(Required\) field not found|Required field is missing): /;

/**
 * Those of `outputs` that Ax's own check found missing from the model's answer (a field without its label, or with
 * nothing after it), in signature order, when `error` is that check's failure after the module's corrections;
 * `undefined` for any other error. Ax's error carries the fields only in its message, by title (`Answer` for
 * `answer`), so the titles are read from its first line (what follows is the model's output) and matched to the
 * fields' own.
 */
function axMissingFields(error: unknown, outputs: readonly AxIField[]): string[] | undefined {
  const said = findInChain(error, (e): e is Error => e instanceof Error && e.message.startsWith(AX_ANSWER_INVALID));
  const problem = said?.message.slice(AX_ANSWER_INVALID.length).split('\n')[0];
  if (problem === undefined || !AX_FIELDS_MISSING.test(problem)) return undefined;
  // Titles come from identifiers, so no quote is in one; Ax's advice after them quotes labels with double quotes.
  const titles = new Set([...problem.matchAll(/'([^']+)'/g)].map((match) => match[1]));
  const missing = outputs.filter((field) => titles.has(field.title)).map((field) => field.name);
  return missing.length > 0 ? missing : undefined;
}

/**
 * Makes `service` reject with a `ProviderUnavailableError` (`malformed_response`) where it would reject with the
 * error object a provider put in a successful answer (`{"error": {"message": "overloaded"}}` with HTTP 200, as some
 * gateways send): Ax's provider code throws that object as it is, and Ax then makes `Error("[object Object]")` of it,
 * so this is the last place that still sees what the provider said.
 */
export function reportingErrorBodies(service: AxAIService, provider: string): void {
  const chat = service.chat.bind(service);
  service.chat = (request, options) =>
    chat(request, options).catch((thrown: unknown) => {
      if (thrown instanceof Error) throw thrown;
      const said = providerMessageOf({ error: thrown }, JSON.stringify(thrown) ?? printable(thrown));
      throw new ProviderUnavailableError(provider, 'malformed_response', cutText(said, 500));
    });
}

/** The error of an answer of `provider` that lacks the `missing` output fields of its signature. */
export function missingFieldsError(provider: string, missing: readonly string[], cause?: unknown): ModelAnswerError {
  const fields = missing.map((name) => `'${name}'`).join(', ');
  return new ModelAnswerError(provider, 'invalid', `the answer has no ${fields}`, { cause, details: { missing } });
}

/**
 * Translates whatever an Ax execution threw. Tether errors pass through; an abort keeps the caller's reason.
 * `outputs`, the output fields of the program's signature, name the fields Ax found an answer lacking.
 */
export function toTetherError(
  error: unknown,
  provider: string,
  abortSignal?: AbortSignal,
  outputs: readonly AxIField[] = [],
): Error {
  if (error instanceof BridgeError) return error;
  if (abortSignal?.aborted) {
    const reason: unknown = abortSignal.reason;
    if (reason instanceof Error) return reason;
    return new InternalError(`execution aborted: ${printable(reason)}`, { cause: error });
  }
  // BestOfN and Refine keep each candidate's failure in the attempts of their error, not in its cause: the last one
  // says what went wrong (a provider's refusal, most often), where "no successful candidates" says nothing.
  const candidate = findInChain(error, (e): e is AxRefineError => e instanceof AxRefineError)?.attempts.findLast(
    (attempt) => attempt.error !== undefined,
  )?.error;
  if (candidate !== undefined) return toTetherError(candidate, provider, abortSignal, outputs);
  // Before the provider errors: a tool that itself called a provider and failed is the tool's failure.
  const tool = findInChain(error, (e): e is ToolFailedError => e instanceof ToolFailedError);
  if (tool) return tool;
  const status = findInChain(error, (e): e is AxAIServiceStatusError => e instanceof AxAIServiceStatusError);
  if (status) {
    // Azure's refusal of a prompt its filter blocked comes as an HTTP error: said as the filters of the others are.
    const blocked = filteredPromptOf(status.status, providerBodyOf(status.responseBody));
    if (blocked) return new ModelAnswerError(provider, 'content_filter', blocked.message, { cause: error });
    return new ProviderError(provider, status.status, providerMessageOf(status.responseBody, status.statusText), {
      cause: error,
    });
  }
  const auth = findInChain(
    error,
    (e): e is AxAIServiceAuthenticationError => e instanceof AxAIServiceAuthenticationError,
  );
  if (auth) {
    // Ax folds 401 and 403 into one error class without the status code, which our fetch noted (refusal-status.ts);
    // a model of the user's own making has no such note, and 401 is the status providers use for keys.
    const status = takeRefusalStatus(auth.requestBody) ?? 401;
    return new ProviderError(provider, status, providerMessageOf(auth.responseBody, 'authentication failed'), {
      cause: error,
    });
  }
  const service = findInChain(error, (e): e is AxAIServiceError => e instanceof AxAIServiceError);
  const unavailable = service && unavailableReason(service);
  if (unavailable)
    return new ProviderUnavailableError(provider, unavailable.reason, unavailable.message, { cause: error });
  const malformed = malformedAnswer(error);
  if (malformed !== undefined)
    return new ProviderUnavailableError(provider, 'malformed_response', malformed, { cause: error });
  const tether = findInChain(error, (e): e is BridgeError => e instanceof BridgeError);
  if (tether) return tether;
  // The required-fields assertion's corrections ran out (generator-pool.ts), or Ax's own check of the fields' labels
  // did: said as the outcome's check says it, not with the correction meant for the model.
  const missing = missingFieldsIn(error) ?? axMissingFields(error, outputs);
  if (missing) return missingFieldsError(provider, missing, error);
  const filtered = findInChain(error, (e): e is ContentFilteredError => e instanceof ContentFilteredError);
  if (filtered) return new ModelAnswerError(provider, 'content_filter', filtered.message, { cause: error });
  const notWhole = findInChain(error, (e): e is AnswerNotWholeError => e instanceof AnswerNotWholeError);
  if (notWhole) return new ModelAnswerError(provider, notWhole.reason, notWhole.message, { cause: error });
  const unusable = unusableAnswer(error);
  if (unusable) return new ModelAnswerError(provider, unusable.reason, unusable.problem, { cause: error });
  // The user's setting that the provider's model cannot take, refused by Ax before it sent anything.
  const thinking = thinkingRefusalIn(error);
  if (thinking) return thinking;
  const message = messageOf(error);
  // `provider` in details tells namingModule that this failure is the program's, which it then names.
  return new InternalError(`LLM program failed: ${message.split('\n')[0] ?? message}`, {
    cause: error,
    details: { provider },
  });
}

/**
 * The error of a module process's execution, naming the module: a `ProviderError`, a tool's failure, an unusable
 * answer or a failed LLM program (as {@link toTetherError} made them) gets `moduleId` in its details (and a failed
 * program in its message), so that a node serving many modules on one provider says which of them was refused (a
 * 429, a bad key). All but a tool's failure also get `model`, the model the execution asked for when it is known
 * (a module's setting, else the language model's default), named in the message: a model variable set to a name
 * the provider does not serve fails as a 404 that names nothing else. Code and other fields stay.
 *
 * A response body that is not JSON, or JSON that is not a chat completion (`choices: []`, a choice without its
 * message, an error object sent with HTTP 200), is `ProviderUnavailableError` (`malformed_response`), and so is a
 * streamed request answered with no event stream at all (non-stream-answer.ts), or with an event that is not JSON or
 * is an error object (answer-stream-check.ts).
 */
export function namingModule(error: unknown, moduleId: string, model?: string): unknown {
  if (!(error instanceof BridgeError) || error.details.moduleId !== undefined) return error;
  const named = { moduleId, ...(model === undefined || error instanceof ToolFailedError ? {} : { model }) };
  // A failed program's message names the module too; the other classes build theirs from the details.
  return withDetails(error, named, `module '${moduleId}': ${error.message}`);
}

/**
 * The same failure of an execution with `added` in its details, rebuilt by its class (which builds its message from
 * them), stack and cause kept: a `ProviderError`, `ProviderUnavailableError`, `ModelAnswerError`, `ToolFailedError`,
 * or an `InternalError` naming a provider (with `message`, its own unless given). Any other error is returned as it
 * is: it is shared (an abort's reason, a caller's own error) or says nothing of the execution's requests.
 */
export function withDetails(error: unknown, added: Record<string, unknown>, message?: string): unknown {
  if (!(error instanceof BridgeError)) return error;
  const options = {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    details: { ...error.details, ...added },
  };
  let rebuilt: BridgeError;
  if (error instanceof ProviderError) {
    rebuilt = new ProviderError(error.provider, error.status, error.providerMessage, options);
  } else if (error instanceof ProviderUnavailableError) {
    rebuilt = new ProviderUnavailableError(error.provider, error.reason, error.providerMessage, options);
  } else if (error instanceof ModelAnswerError) {
    rebuilt = new ModelAnswerError(error.provider, error.reason, error.problem, options);
  } else if (error instanceof ToolFailedError) {
    rebuilt = new ToolFailedError(error.tool, error.toolMessage, options);
  } else if (error instanceof InternalError && typeof error.details.provider === 'string') {
    rebuilt = new InternalError(message ?? error.message, options);
  } else return error;
  // Where the failure was seen, not this copy.
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}

/**
 * What a ReAct tool's throw becomes on its way into Ax: a {@link ToolFailedError} naming the tool, which
 * {@link toTetherError} finds again under Ax's wrapping. Two throws pass as they are: Ax's own `AxFunctionError`
 * (bad arguments), which Ax hands back to the model to correct, and any throw once the execution's `signal`
 * aborted, which is the cancel's doing, not the tool's.
 */
export function toolFailure(tool: string, error: unknown, signal: AbortSignal | undefined): unknown {
  if (error instanceof AxFunctionError || signal?.aborted) return error;
  const message = messageOf(error);
  const details = error instanceof BridgeError ? { toolErrorCode: error.code } : {};
  return new ToolFailedError(tool, message, { cause: error, details });
}
