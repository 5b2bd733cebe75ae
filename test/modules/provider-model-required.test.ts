/**
 * Found by a review: a provider without a default model (Ollama, Groq, Together, OpenRouter, Hugging Face,
 * openai-compatible) built without one was refused naming `provider` (`TETHER_AI` from the environment), quoting Ax's
 * "Error: No model defined": the setting to fix is the model.
 */
import { describe, expect, it } from 'vitest';
import { createLanguageModel, languageModelFromEnv } from '../../src/modules/index.js';
import { validationErrorOf } from '../support/validation-error.js';

describe('a provider without a default model', () => {
  it.each(['ollama', 'groq', 'together', 'openrouter', 'huggingface', 'openai-compatible'])(
    '%s built without one: the error names `model`',
    (provider) => {
      const error = validationErrorOf(() => createLanguageModel({ provider, url: 'http://127.0.0.1:1/v1', key: 'k' }));
      expect(error).toMatchObject({ code: 'validation_failed', variable: 'model', details: { field: 'model' } });
      expect(error.message).toContain(`provider '${provider === 'huggingface' ? 'huggingface-router' : provider}'`);
    },
  );

  it('from the environment (what `tether serve` reads): the error names TETHER_AI_MODEL', () => {
    const error = validationErrorOf(() => languageModelFromEnv({ TETHER_AI: 'ollama' }));
    expect(error).toMatchObject({ variable: 'TETHER_AI_MODEL', details: { field: 'TETHER_AI_MODEL' } });
    expect(error.message).toMatch(/^TETHER_AI_MODEL is not set; provider 'ollama' has no default model/);
  });

  it('is built once given one, and a provider with a default model needs none', () => {
    expect(createLanguageModel({ provider: 'ollama', model: 'llama3.1' }).toString()).toBe('ollama:llama3.1');
    expect(createLanguageModel({ provider: 'deepseek', key: 'k' }).provider).toBe('deepseek');
  });
});
