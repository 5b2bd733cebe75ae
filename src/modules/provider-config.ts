/**
 * LLM configuration from the environment: `TETHER_AI`, `TETHER_AI_URL`, `TETHER_AI_KEY`, `TETHER_AI_MODEL`.
 * Read and validated once, at start; with none set, the offline `tether-echo` model answers.
 * @module
 */
import { ValidationError } from '../errors.js';
import { ECHO_MODEL_NAME } from './echo-model.js';
import { type LanguageModel, type ProviderConfig, createLanguageModel } from './language-model.js';

/** The environment variables Tether reads, by role. */
export const PROVIDER_ENV = {
  provider: 'TETHER_AI',
  url: 'TETHER_AI_URL',
  key: 'TETHER_AI_KEY',
  model: 'TETHER_AI_MODEL',
} as const;

/** An environment to read from; `process.env` by default. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The provider configuration the environment describes. With no `TETHER_AI*` variable set it is the offline
 * model. Setting URL, key or model without `TETHER_AI` is an error rather than a silent fall-back to the echo.
 */
export function readProviderConfig(env: Environment = process.env): ProviderConfig {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const provider = get(PROVIDER_ENV.provider);
  const url = get(PROVIDER_ENV.url);
  const key = get(PROVIDER_ENV.key);
  const model = get(PROVIDER_ENV.model);
  if (!provider) {
    const stray = [url && PROVIDER_ENV.url, key && PROVIDER_ENV.key, model && PROVIDER_ENV.model].filter(Boolean);
    if (stray.length > 0) {
      throw new ValidationError(`${PROVIDER_ENV.provider} is not set but ${stray.join(', ')} is; name the provider too`, {
        variable: PROVIDER_ENV.provider,
      });
    }
    return { provider: ECHO_MODEL_NAME };
  }
  if (url !== undefined && !URL.canParse(url)) {
    throw new ValidationError(`${PROVIDER_ENV.url} is not a URL: '${url}'`, { variable: PROVIDER_ENV.url });
  }
  return {
    provider,
    ...(url !== undefined ? { url } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(model !== undefined ? { model } : {}),
  };
}

/**
 * The language model the environment configures, validated now: an unknown provider or a missing key throws a
 * `ValidationError` whose `variable` names the environment variable to fix.
 * @example
 * // TETHER_AI=openai TETHER_AI_KEY=sk-... TETHER_AI_MODEL=gpt-4o-mini
 * const llm = languageModelFromEnv()
 */
export function languageModelFromEnv(env: Environment = process.env): LanguageModel {
  return createLanguageModel(readProviderConfig(env), PROVIDER_ENV);
}
