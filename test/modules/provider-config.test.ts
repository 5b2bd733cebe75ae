import { describe, expect, it } from 'vitest';
import {
  ECHO_MODEL_NAME,
  Predict,
  createLanguageModel,
  languageModelFromEnv,
  readProviderConfig,
} from '../../src/modules/index.js';
import { MAX_TIMEOUT_MS } from '../../src/runtime/process-runtime-options.js';
import { validationErrorOf } from '../support/validation-error.js';

describe('provider-config', () => {
  it('uses the offline tether-echo model when nothing is set', () => {
    expect(readProviderConfig({})).toEqual({ provider: ECHO_MODEL_NAME });
    const llm = languageModelFromEnv({});
    expect(llm.offline).toBe(true);
    expect(llm.toString()).toBe('tether-echo');
  });

  it('reads all four variables', () => {
    expect(
      readProviderConfig({
        TETHER_AI: 'openai',
        TETHER_AI_URL: 'http://127.0.0.1:1/v1',
        TETHER_AI_KEY: 'sk-x',
        TETHER_AI_MODEL: 'gpt-4o-mini',
      }),
    ).toEqual({ provider: 'openai', url: 'http://127.0.0.1:1/v1', key: 'sk-x', model: 'gpt-4o-mini' });
  });

  // Found by mutation: none of these trims or stray variables was held by a test.
  it('reads each variable trimmed, one of only white space as unset, and refuses any without TETHER_AI', () => {
    // A model name sent with its line break would be a model no provider has.
    expect(
      readProviderConfig({
        TETHER_AI: ' ollama\n',
        TETHER_AI_MODEL: 'llama3\n',
        TETHER_AI_URL: ' \t',
        TETHER_AI_KEY: '',
      }),
    ).toEqual({ provider: 'ollama', model: 'llama3' });
    expect(readProviderConfig({ TETHER_AI: '  ' })).toEqual({ provider: ECHO_MODEL_NAME });
    for (const stray of ['TETHER_AI_URL', 'TETHER_AI_KEY', 'TETHER_AI_MODEL']) {
      const value = stray === 'TETHER_AI_URL' ? 'http://127.0.0.1:1/v1' : 'x';
      const error = validationErrorOf(() => readProviderConfig({ [stray]: value }));
      expect(error.variable).toBe('TETHER_AI');
      expect(error.message).toBe(`TETHER_AI is not set but ${stray} is; name the provider too`);
    }
  });

  it('names TETHER_AI for an unknown provider, before any call', () => {
    const error = validationErrorOf(() => languageModelFromEnv({ TETHER_AI: 'openia', TETHER_AI_KEY: 'k' }));
    expect(error.variable).toBe('TETHER_AI');
    expect(error.message).toMatch(/TETHER_AI: unknown LLM provider 'openia'/);
  });

  // Found by a security review: a key set in TETHER_AI by mistake (the variables swapped) was quoted back in the
  // message and details, on stderr of `tether serve`; TETHER_AI_URL's value was already never shown for that reason.
  it('does not quote an unknown provider that does not look like a provider name', () => {
    for (const value of ['sk-proj-Z9x8W7v6U5t4S3r2Q1p0aBcD', 'AIzaSyD3x4mpl3K3yV4lu3', 'secret key']) {
      for (const build of [
        () => languageModelFromEnv({ TETHER_AI: value }),
        () => createLanguageModel({ provider: value }),
      ]) {
        const error = validationErrorOf(build);
        expect(error.message).toMatch(
          /unknown LLM provider \(its value is not shown: it may hold a secret\); use one of /,
        );
        expect(JSON.stringify(error)).not.toContain(value);
      }
    }
  });

  it('names TETHER_AI_KEY when a provider needs a key', () => {
    for (const provider of ['openai', 'anthropic', 'google-gemini']) {
      const error = validationErrorOf(() => languageModelFromEnv({ TETHER_AI: provider }));
      expect(error.variable).toBe('TETHER_AI_KEY');
      expect(error.message).toContain('TETHER_AI_KEY is not set');
    }
  });

  it('names TETHER_AI_URL when openai-compatible has no endpoint', () => {
    const error = validationErrorOf(() => languageModelFromEnv({ TETHER_AI: 'openai-compatible', TETHER_AI_KEY: 'k' }));
    expect(error.variable).toBe('TETHER_AI_URL');
  });

  it('rejects a malformed URL and settings without a provider', () => {
    expect(
      validationErrorOf(() => readProviderConfig({ TETHER_AI: 'ollama', TETHER_AI_URL: 'not a url' })).variable,
    ).toBe('TETHER_AI_URL');
    expect(validationErrorOf(() => readProviderConfig({ TETHER_AI_KEY: 'sk-x' })).variable).toBe('TETHER_AI');
    // An environment that is no object (a TypeError before).
    expect(validationErrorOf(() => languageModelFromEnv(null as never)).message).toBe(
      'the environment to read a provider from must be an object, got null',
    );
  });

  it('refuses at build a URL carrying credentials, without echoing them', () => {
    const secret = 'hunter2';
    const cases: [() => unknown, string, string][] = [
      [
        () => createLanguageModel({ provider: 'openai', url: `http://proxyuser:${secret}@127.0.0.1:1/v1`, key: 'k' }),
        'url',
        'give the API key in key',
      ],
      [
        () => createLanguageModel({ provider: 'openai-compatible', url: `https://${secret}@example.com/v1` }),
        'url',
        'give the API key in key',
      ],
      [
        () =>
          languageModelFromEnv({
            TETHER_AI: 'openai',
            TETHER_AI_URL: `http://proxyuser:${secret}@127.0.0.1:1/v1`,
            TETHER_AI_KEY: 'k',
          }),
        'TETHER_AI_URL',
        'give the API key in TETHER_AI_KEY',
      ],
    ];
    for (const [build, variable, hint] of cases) {
      const error = validationErrorOf(build);
      expect(error).toMatchObject({ code: 'validation_failed', variable });
      expect(error.message).toContain(`${variable} must not carry credentials`);
      expect(error.message).toContain(hint);
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(secret);
    }
  });

  it('does not echo a TETHER_AI_URL that is no URL: it may hold a password', () => {
    const error = validationErrorOf(() =>
      readProviderConfig({ TETHER_AI: 'openai', TETHER_AI_URL: 'http//user:hunter2@host', TETHER_AI_KEY: 'k' }),
    );
    expect(error).toMatchObject({ code: 'validation_failed', variable: 'TETHER_AI_URL' });
    expect(error.message).toContain('TETHER_AI_URL is not a URL');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('hunter2');
  });

  it('refuses at build a key no HTTP header can carry, naming the character, not the key', () => {
    const cases: [() => unknown, string, string][] = [
      [
        () => createLanguageModel({ provider: 'openai', key: 'sk-abc\u2019def' }),
        'key',
        "character 7, U+2019 '\u2019'",
      ],
      [() => createLanguageModel({ provider: 'openai', key: 'sk-abc\ndef' }), 'key', 'character 7, U+000A,'],
      // Found by a review: control characters but line breaks and NUL passed, and a leading line break too.
      [() => createLanguageModel({ provider: 'openai', key: 'sk-abc\u001bdef' }), 'key', 'character 7, U+001B,'],
      [() => createLanguageModel({ provider: 'openai', key: '\nsk\u007fabcdef' }), 'key', 'character 3, U+007F,'],
      [() => createLanguageModel({ provider: 'openai', key: 'sk-abc\u0001def' }), 'key', 'character 7, U+0001,'],
      [() => createLanguageModel({ provider: 'openai', key: 'sk-abc\u0085def' }), 'key', 'character 7, U+0085,'],
      // Found by mutation: the last C1 control and the first character past Latin-1, the ends of what is refused.
      [() => createLanguageModel({ provider: 'openai', key: 'sk-abc\u009fdef' }), 'key', 'character 7, U+009F,'],
      [
        () => createLanguageModel({ provider: 'openai', key: 'sk-abc\u0100def' }),
        'key',
        "character 7, U+0100 '\u0100'",
      ],
      [
        () => languageModelFromEnv({ TETHER_AI: 'openai', TETHER_AI_KEY: 'sk-\u{1F511}abcdef' }),
        'TETHER_AI_KEY',
        'character 4, U+1F511',
      ],
    ];
    for (const [build, variable, where] of cases) {
      const error = validationErrorOf(build);
      expect(error).toMatchObject({ code: 'validation_failed', variable });
      expect(error.message).toContain(`${variable} holds ${where}`);
      expect(error.message).toContain('which an HTTP header cannot carry');
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toMatch(/abc|def/);
    }
    // What fetch can send still builds: Latin-1 and tab, and white space at the ends (the key is sent trimmed).
    expect(createLanguageModel({ provider: 'openai', key: 'sk-caf\u00e9\n' })).toBeDefined();
    expect(createLanguageModel({ provider: 'openai', key: 'sk-\u00a0\u00ff' })).toBeDefined();
    expect(createLanguageModel({ provider: 'openai', key: ' sk-abc\r\n' })).toBeDefined();
    expect(createLanguageModel({ provider: 'openai', key: '\nsk-a\tbc' })).toBeDefined();
  });

  it('accepts keyless local providers and Ax aliases', () => {
    expect(languageModelFromEnv({ TETHER_AI: 'ollama', TETHER_AI_MODEL: 'llama3' }).toString()).toBe('ollama:llama3');
    expect(createLanguageModel({ provider: 'claude', key: 'k' }).provider).toBe('anthropic');
    expect(createLanguageModel({ provider: 'Gemini', key: 'k' }).provider).toBe('google-gemini');
    // Found by mutation: a provider given in code with white space around it was not held to be trimmed.
    expect(createLanguageModel({ provider: ' Claude\n', key: 'k' }).provider).toBe('anthropic');
  });

  it('fails at module construction, not at the first call, when the environment is wrong', () => {
    const saved = { ...process.env };
    try {
      process.env.TETHER_AI = 'anthropic';
      delete process.env.TETHER_AI_KEY;
      expect(() => new Predict('question -> answer')).toThrow(/TETHER_AI_KEY/);
    } finally {
      for (const key of ['TETHER_AI', 'TETHER_AI_URL', 'TETHER_AI_KEY', 'TETHER_AI_MODEL']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('refuses at build a setting no call could use, naming it, and an unknown one', () => {
    const base = { provider: 'openai', key: 'sk-test' };
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ ...base, url: 'not a url' }, 'url', 'url must be an http or https URL'],
      [{ ...base, url: 'ftp://example.com' }, 'url', 'url must be an http or https URL'],
      [{ ...base, timeoutMs: -5 }, 'timeoutMs', 'timeoutMs must be a number of milliseconds over 0'],
      [{ ...base, timeoutMs: 'soon' }, 'timeoutMs', 'timeoutMs must be a number of milliseconds over 0'],
      [{ ...base, timeoutMs: Infinity }, 'timeoutMs', 'timeoutMs must be a number of milliseconds over 0'],
      [{ ...base, httpRetries: -1 }, 'httpRetries', 'httpRetries must be a whole number from 0 to 10'],
      [{ ...base, rateLimitRetries: 11 }, 'rateLimitRetries', 'rateLimitRetries must be a whole number from 0 to 10'],
      [{ ...base, rateLimitRetries: 1.5 }, 'rateLimitRetries', 'rateLimitRetries must be a whole number from 0 to 10'],
      [{ ...base, model: 5 }, 'model', 'model must be a string'],
      // Found by mutation: the ends of each range, and a key that is no string (a TypeError from trim before).
      [{ ...base, key: 5 }, 'key', 'key must be a string'],
      [{ ...base, timeoutMs: 0 }, 'timeoutMs', 'timeoutMs must be a number of milliseconds over 0'],
      [{ ...base, timeoutMs: MAX_TIMEOUT_MS + 1 }, 'timeoutMs', `at most ${MAX_TIMEOUT_MS}`],
      [{ ...base, httpRetries: 11 }, 'httpRetries', 'httpRetries must be a whole number from 0 to 10'],
      [{ provider: 7 }, 'provider', 'provider must be a provider name (a string)'],
    ];
    for (const [config, variable, message] of refusals) {
      const error = validationErrorOf(() => createLanguageModel(config as never));
      expect(error).toMatchObject({ code: 'validation_failed', variable });
      expect(error.message).toContain(message);
    }
    const unknown = validationErrorOf(() => createLanguageModel({ ...base, timeout: 5 } as never));
    expect(unknown.details).toMatchObject({ unknown: ['timeout'] });
    expect(unknown.message).toBe(
      'createLanguageModel got unknown setting timeout; accepted: provider, url, key, model, httpRetries, ' +
        'rateLimitRetries, timeoutMs',
    );
    // What is right still builds.
    expect(
      createLanguageModel({
        ...base,
        url: 'http://127.0.0.1:1/v1',
        timeoutMs: 500,
        httpRetries: 1,
        rateLimitRetries: 0,
      }),
    ).toBeDefined();
    expect(
      createLanguageModel({ ...base, timeoutMs: MAX_TIMEOUT_MS, httpRetries: 10, rateLimitRetries: 10 }),
    ).toBeDefined();
    expect(createLanguageModel({ ...base, httpRetries: 0 })).toBeDefined();
  });
});
