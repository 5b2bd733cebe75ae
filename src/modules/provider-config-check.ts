/**
 * The check of a {@link ProviderConfig} given in code, so that a language model's configuration fails when it is
 * built, naming the setting, rather than at its first execution as an `internal_error` ("Invalid URL") or as a
 * timeout on every call (`timeoutMs: -5`), or not at all (a misspelt `timeout`, silently ignored).
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertOptionKeys } from '../option-keys.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import type { ConfigNames, ProviderConfig } from './language-model.js';
import { codePointName } from '../printable.js';

const PROVIDER_CONFIG_KEYS: readonly (keyof ProviderConfig)[] = [
  'provider',
  'url',
  'key',
  'model',
  'httpRetries',
  'rateLimitRetries',
  'timeoutMs',
];

/** Throws a `ValidationError` naming the first setting of `config` that no language model can be built from. */
export function assertProviderConfig(config: unknown, names: ConfigNames): asserts config is ProviderConfig {
  assertOptionKeys(config, 'createLanguageModel', PROVIDER_CONFIG_KEYS, 'setting');
  const { provider, url, key, model, httpRetries, rateLimitRetries, timeoutMs } = config as Record<
    keyof ProviderConfig,
    unknown
  >;
  const refuse = (variable: string, why: string): never => {
    throw new ValidationError(`${variable} ${why}`, { variable, details: { field: variable } });
  };
  if (typeof provider !== 'string') refuse(names.provider, 'must be a provider name (a string)');
  for (const [name, value] of [
    [names.key, key],
    [names.model, model],
  ] as const)
    if (value !== undefined && typeof value !== 'string') refuse(name, 'must be a string');
  if (typeof key === 'string') {
    const bad = unsendableKeyCharacter(key);
    if (bad) refuse(names.key, `holds ${bad}`);
  }
  if (url !== undefined) {
    const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
    // Not echoed: a URL may carry a password.
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      refuse(names.url, 'must be an http or https URL');
    // fetch refuses to build a request from such a URL, so every execution would fail as "unreachable", be
    // retried, and carry the URL, password included, in its error and events.
    if (parsed && (parsed.username !== '' || parsed.password !== ''))
      refuse(
        names.url,
        `must not carry credentials (user:password@ before the host); give the API key in ${names.key}`,
      );
  }
  for (const [name, value] of [
    ['httpRetries', httpRetries],
    ['rateLimitRetries', rateLimitRetries],
  ] as const)
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 10))
      refuse(name, 'must be a whole number from 0 to 10');
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
    refuse('timeoutMs', `must be a number of milliseconds over 0 and at most ${MAX_TIMEOUT_MS}`);
}

/**
 * Where `key`, its ends trimmed as it is sent (positions count from there), holds a character fetch cannot put in
 * an `Authorization` header (a control character other than tab, such as the ESC of a pasted key or a line break, or
 * one past Latin-1, such as a typographic apostrophe pasted from a document), as its position and code point;
 * `undefined` when it can be sent. Such a key otherwise failed every request as if the provider were unreachable,
 * and was retried. Only the offending character is shown, never the key.
 */
function unsendableKeyCharacter(key: string): string | undefined {
  let position = 0;
  for (const char of key.trim()) {
    position += 1;
    const code = char.codePointAt(0) ?? 0;
    // C1 controls (0x80-0x9F) fetch would send, but no key holds one: a paste or an encoding went wrong.
    if ((code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f) || code > 0xff) {
      const shown = code > 0x20 && !(code >= 0x7f && code <= 0x9f) ? ` '${char}'` : '';
      const rule = 'Latin-1 without control characters but tab';
      return `character ${position}, ${codePointName(code)}${shown}, which an HTTP header cannot carry (${rule})`;
    }
  }
  return undefined;
}
