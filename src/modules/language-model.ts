/**
 * The LLM a module talks to: a real provider through Ax's own provider code, or the offline `tether-echo`;
 * configured explicitly or from the environment (`TETHER_AI`, `TETHER_AI_URL`, `TETHER_AI_KEY`, `TETHER_AI_MODEL`),
 * validated at start. The Ax service stays inside this folder; callers only see {@link LanguageModel}.
 * @module
 */
import { ai, axAIProfiles } from '@ax-llm/ax';
import type { AxAIService } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import { registerService } from './ax-bridge.js';
import { createEchoService } from './echo-model.js';
import { fetchWithAnswerDeadline } from './answer-deadline.js';
import { fetchCheckingAnswerStreams } from './answer-stream-check.js';
import { fetchRefusingNonStreamAnswers } from './non-stream-answer.js';
import { fetchCheckingGeminiAnswers } from './gemini-answer-check.js';
import { fetchCheckingFinishReasons, unfinishedChoiceOf } from './finish-reasons.js';
import { fetchRetryingRateLimits } from './rate-limit-retry.js';
import { fetchNotingRefusals } from './refusal-status.js';
import { assertProviderConfig } from './provider-config-check.js';
import { assertAzureURL } from './azure-endpoint.js';
import { sendingTo } from './provider-endpoint.js';
import { rememberKey } from './hidden-key.js';
import { reportingErrorBodies } from './provider-errors.js';
import { refusingFilteredAnswers } from './content-filter.js';
import { askingMaxTokens, fetchKeepingMaxTokens } from './reasoning-model-tokens.js';

/** What a provider name looks like (`openai`, `google-gemini`, `Azure`): short, no space, no mix of cases. */
const PROVIDER_NAME = /^(?:[a-z0-9._-]{1,30}|[A-Z][a-z0-9._-]{0,29}|[A-Z0-9._-]{1,30})$/;

/** The name the offline model answers to, in `TETHER_AI=tether-echo` and in every answer. */
export const ECHO_MODEL_NAME = 'tether-echo';

/** Which provider to use and how to reach it. */
export interface ProviderConfig {
  /**
   * An Ax provider name (`openai`, `anthropic`, `google-gemini`, `ollama`, `openai-compatible`, …) or
   * `tether-echo`.
   */
  readonly provider: string;
  /**
   * The endpoint (a proxy, a gateway, a local server): every request goes there, whatever the provider. Required by
   * `openai-compatible` and `azure-openai` (a deployment's `…/openai/deployments/<name>?api-version=…` or the v1
   * API's `…/openai/v1`, see azure-endpoint.ts); left out, the others use their public endpoint.
   */
  readonly url?: string;
  /** The API key; required by providers that authenticate (OpenAI, Anthropic, Gemini, …). */
  readonly key?: string;
  /**
   * The model a module uses when it sets no `model` attribute of its own. Required by the providers that have no
   * default model (`openai-compatible`, `ollama`, `groq`, `together`, `openrouter`, `huggingface`, …: any whose Ax
   * profile names none), and by `azure-openai` at the v1 API's url, where it is the deployment; left out, the others
   * use their own default (`openai`'s, `anthropic`'s, …).
   */
  readonly model?: string;
  /**
   * HTTP-level retries inside Ax's transport, of a 408 and the 5xx (a 429 is `rateLimitRetries`'). Ax also retries
   * 5xx at the program level (`maxRetries`); the two multiply (a 500 cost 16 requests with both at their default of
   * 3), so Tether keeps only the program level.
   * @default 0
   */
  readonly httpRetries?: number;
  /**
   * How many times a request the provider rate-limited (HTTP 429) is sent again, as OpenAI's own SDK does, each after
   * the wait its `Retry-After` asks for (else 1 s, 2 s, 4 s, then 8 s each time); a 429 asking for more than 20 s, or
   * for a wait that would end past half of `timeoutMs`, is the answer at once. 0 fails at the first 429. See
   * rate-limit-retry.ts.
   * @default 2
   */
  readonly rateLimitRetries?: number;
  /** How long a request may take, its answer read to the end included, in milliseconds. @default 300000 */
  readonly timeoutMs?: number;
}

/** The statuses Ax's HTTP-level retries (`httpRetries`) send again: its own list, less the 429. */
const AX_RETRIED_STATUSES = [500, 408, 502, 503, 504, 529];

/** How many times a rate-limited request is sent again when the configuration does not say (OpenAI's SDK's 2). */
const DEFAULT_RATE_LIMIT_RETRIES = 2;

/** A provider request's time limit when the configuration gives none (Ax's own default). */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 300_000;

/**
 * A configured LLM. Build one with {@link createLanguageModel} or `languageModelFromEnv`; pass it to modules as
 * `llm`. Opaque on purpose: no provider library type leaks through it.
 */
export class LanguageModel {
  /** Not for direct use: build one with {@link createLanguageModel}; one built directly has no provider behind it. */
  constructor(
    /** The provider id (`openai`, `tether-echo`, …). */
    readonly provider: string,
    /** The default model name, if one was configured. */
    readonly defaultModel: string | undefined,
  ) {}

  /** Whether this is the offline echo model rather than an LLM. */
  get offline(): boolean {
    return this.provider === ECHO_MODEL_NAME;
  }

  /** `openai:gpt-4o-mini`, `tether-echo`, … for logs. */
  toString(): string {
    return this.defaultModel ? `${this.provider}:${this.defaultModel}` : this.provider;
  }
}

/**
 * Builds a language model and checks its configuration now, so a wrong provider name, a missing key, a malformed
 * URL, a missing model (for a provider that has no default one), a timeout that is no duration or an unknown setting
 * fails at start, not at the first call. Errors name the setting (`provider`, `key`, `url`, `model`, `timeoutMs`, …)
 * in `ValidationError.variable`; unknown settings are listed in `details.unknown` instead.
 * @example
 * const llm = createLanguageModel({ provider: 'openai', key: process.env.OPENAI_KEY, model: 'gpt-4o-mini' })
 */
export function createLanguageModel(config: ProviderConfig, names: ConfigNames = DEFAULT_NAMES): LanguageModel {
  assertProviderConfig(config, names);
  const requested = config.provider.trim().toLowerCase();
  if (requested === ECHO_MODEL_NAME) {
    const model = new LanguageModel(ECHO_MODEL_NAME, config.model);
    // The echo names itself in its answers when a request names no model: its `model` setting never reaches it.
    registerService(model, createEchoService(ECHO_MODEL_NAME), ECHO_MODEL_NAME);
    return model;
  }
  const profile = axAIProfiles().find((p) => p.id === requested || p.aliases.includes(requested));
  if (!profile) {
    const known = axAIProfiles().map((p) => p.id);
    // Quoted only when it could be a misspelt name: a key set in the provider's variable by mistake is not shown, as
    // the URL's value is not (see readProviderConfig).
    const named = PROVIDER_NAME.test(config.provider);
    const shown = named ? `'${config.provider}'` : '(its value is not shown: it may hold a secret)';
    throw new ValidationError(
      `${names.provider}: unknown LLM provider ${shown}; use one of ${[ECHO_MODEL_NAME, ...known].join(', ')}`,
      { variable: names.provider, details: named ? { provider: config.provider } : {} },
    );
  }
  // Sent trimmed (a key read from a file or pasted often ends in a line break), and checked so (see
  // provider-config-check.ts): white space at its start would otherwise sit inside `Bearer <key>`.
  const key = config.key?.trim();
  if (profile.authentication.required && !key) {
    throw new ValidationError(`${names.key} is not set; provider '${profile.id}' needs an API key`, {
      variable: names.key,
      details: { provider: profile.id },
    });
  }
  // A profile with an endpoint block builds its URL from settings Tether does not take (Azure's resourceName and
  // deploymentName): without a url, Ax would ask for those, which no one can give here.
  if (profile.id === 'azure-openai') assertAzureURL(config.url, config.model, names);
  else if ((profile.requiresApiURL || profile.endpoint !== undefined) && !config.url) {
    throw new ValidationError(`${names.url} is not set; provider '${profile.id}' needs an endpoint URL`, {
      variable: names.url,
      details: { provider: profile.id },
    });
  }
  // Checked here rather than left to Ax, whose "No model defined" would be said of the provider setting. (Azure's
  // profile names a default model, which its v1 API would take for a deployment: azure-endpoint.ts refuses that.)
  if (!config.model && !profile.defaultModel) {
    throw new ValidationError(
      `${names.model} is not set; provider '${profile.id}' has no default model, so name the model to use`,
      { variable: names.model, details: { field: names.model, provider: profile.id } },
    );
  }
  const timeoutMs = config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  // The rate-limit retries inside the answer's deadline, which so bounds them all with their waits.
  const delivered = fetchWithAnswerDeadline(
    timeoutMs,
    fetchRetryingRateLimits(config.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES, timeoutMs),
  );
  // Only a provider speaking Gemini's protocol has Gemini's answers to check, and only one speaking OpenAI's chat
  // protocol has its finish reasons (finish-reasons.ts): judged in a whole answer, after streamed ones are labelled as
  // streams (non-stream-answer.ts) so that it lets them by, and in each event of a stream.
  const read = profile.transport === 'gemini-generate-content' ? fetchCheckingGeminiAnswers(delivered) : delivered;
  const openAIChat = profile.transport === 'openai-chat';
  const labelled = fetchRefusingNonStreamAnswers(read);
  const judged = openAIChat ? fetchCheckingFinishReasons(labelled) : labelled;
  const args = {
    name: profile.id,
    // No key, no Authorization header: Ax sends `Bearer <key>` whatever the key is, and a placeholder reached a
    // keyless server (or a proxy in front of one, which may refuse it) as `Bearer none`.
    ...(key ? { apiKey: key } : {}),
    ...(config.url ? { apiURL: config.url } : {}),
    ...(config.model ? { config: { model: config.model } } : {}),
    options: {
      // Without 429, which the rate-limit retries below take: both would multiply their requests.
      retry: { maxRetries: config.httpRetries ?? 0, retryableStatusCodes: AX_RETRIED_STATUSES },
      timeout: timeoutMs,
      // Ax's timeout ends at the response's headers; this one holds to the end of its body, which must be complete.
      fetch: fetchKeepingMaxTokens(
        fetchNotingRefusals(fetchCheckingAnswerStreams(judged, openAIChat ? unfinishedChoiceOf : undefined)),
      ),
    },
  };
  let service: AxAIService;
  try {
    service = ai(args as unknown as Parameters<typeof ai>[0]);
  } catch (cause) {
    const why = String(cause);
    throw new ValidationError(`${names.provider}: provider '${profile.id}' rejected its configuration: ${why}`, {
      variable: names.provider,
      cause,
    });
  }
  if (config.url) sendingTo(service, config.url, names.url, profile.id);
  reportingErrorBodies(service, profile.id);
  refusingFilteredAnswers(service, profile.id);
  askingMaxTokens(service);
  const model = new LanguageModel(profile.id, config.model);
  // A request naming no model goes out with the configured one, else the profile's default (checked above that one
  // of them is set): what results report as their `model`.
  registerService(model, service, config.model ?? profile.defaultModel!);
  // Looked for in the errors of its executions: a proxy may echo it (hidden-key.ts).
  if (key) rememberKey(model, key);
  return model;
}

/** The offline `tether-echo` model: deterministic, no network, not an LLM. */
export function createEchoModel(): LanguageModel {
  return createLanguageModel({ provider: ECHO_MODEL_NAME });
}

/** How configuration errors name their settings; environment configuration uses the variable names. */
export interface ConfigNames {
  readonly provider: string;
  readonly url: string;
  readonly key: string;
  readonly model: string;
}

const DEFAULT_NAMES: ConfigNames = { provider: 'provider', url: 'url', key: 'key', model: 'model' };

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
  if (typeof env !== 'object' || env === null)
    throw new ValidationError(`the environment to read a provider from must be an object, got ${show(env)}`);
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
      const message = `${PROVIDER_ENV.provider} is not set but ${stray.join(', ')} is; name the provider too`;
      throw new ValidationError(message, {
        variable: PROVIDER_ENV.provider,
      });
    }
    return { provider: ECHO_MODEL_NAME };
  }
  if (url !== undefined && !URL.canParse(url)) {
    // Not echoed: it may carry a password, or be a key set in the wrong variable.
    throw new ValidationError(`${PROVIDER_ENV.url} is not a URL (its value is not shown: it may hold a secret)`, {
      variable: PROVIDER_ENV.url,
    });
  }
  return {
    provider,
    ...(url !== undefined ? { url } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(model !== undefined ? { model } : {}),
  };
}

/**
 * The language model the environment configures, validated now: an unknown provider, a missing key, URL or model
 * throws a `ValidationError` whose `variable` names the environment variable to fix.
 * @example
 * // TETHER_AI=openai TETHER_AI_KEY=sk-... TETHER_AI_MODEL=gpt-4o-mini
 * const llm = languageModelFromEnv()
 */
export function languageModelFromEnv(env: Environment = process.env): LanguageModel {
  return createLanguageModel(readProviderConfig(env), PROVIDER_ENV);
}
