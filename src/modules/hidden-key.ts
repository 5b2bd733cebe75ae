/**
 * The API key of a language model kept out of the errors its executions fail with. A provider answers only what it
 * is sent, but a proxy or gateway in front of it may echo the request, its `Authorization` (or `x-api-key`,
 * `api-key`) header included, in an error body ("Incorrect API key provided: Bearer sk-…", a 502 quoting the request
 * it could not forward); Tether quotes what a provider says in `ProviderError`, `ProviderUnavailableError` and the
 * rest, and those go into events, onto the wire and into logs. Each such error is rebuilt with the key replaced.
 *
 * Only errors: the key is not looked for in a model's answers, where a placeholder key (`ollama`, `lm-studio`, as
 * keyless local servers are often given one) would cut words out of what the model said.
 * @module
 */
import { BridgeError, errorFromJSON } from '../errors.js';
import type { LanguageModel } from './language-model.js';

/** What stands in an error where the provider quoted the key. */
export const HIDDEN_KEY = '[API key hidden]';

/** The key each model sends, kept apart from the model (whose fields are public) and from its Ax service. */
const keys = new WeakMap<LanguageModel, string>();

/**
 * The shortest key looked for. A keyless local server is often given a placeholder (`ollama`, `lm-studio`, `sk`),
 * which would be cut out of any word that holds it ("provider 'ollama' answered…", "a[API key hidden] again"); every
 * key a hosted provider issues is far longer (OpenAI's, Anthropic's and Google's are 39 characters or more).
 */
const MIN_HIDDEN_KEY_LENGTH = 12;

/** @internal Records the key `model` sends (trimmed, as it goes in the header); for this folder's factories only. */
export function rememberKey(model: LanguageModel, key: string): void {
  if (key.length >= MIN_HIDDEN_KEY_LENGTH) keys.set(model, key);
}

/**
 * `error` as it is when it does not hold the key of `model`, else the same error (class, code, message, details and
 * stack) rebuilt with each occurrence of the key replaced by {@link HIDDEN_KEY}. Its `cause`, the provider library's
 * error holding the answer's body, is left out.
 */
export function withoutKey<E>(error: E, model: LanguageModel): E {
  const key = keys.get(model);
  if (key === undefined || !(error instanceof BridgeError)) return error;
  const shown = JSON.stringify(error.toJSON());
  if (!shown.includes(key) && !error.stack?.includes(key)) return error;
  const rebuilt = errorFromJSON(hidden(error.toJSON(), key));
  if (error.stack !== undefined) rebuilt.stack = hidden(error.stack, key) as string;
  return rebuilt as E;
}

/** `value`, a JSON value, with `key` replaced in each of its strings (object keys included). */
function hidden(value: unknown, key: string): unknown {
  if (typeof value === 'string') return value.split(key).join(HIDDEN_KEY);
  if (Array.isArray(value)) return value.map((item) => hidden(item, key));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [hidden(name, key), hidden(item, key)]));
  return value;
}
