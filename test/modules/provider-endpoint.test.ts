import type { AxAIService } from '@ax-llm/ax';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { sendingTo } from '../../src/modules/provider-endpoint.js';

/** An Ax provider service as far as its endpoint goes, wrapped as `ai()` wraps it. */
const wrapped = (inner: object) => ({ ai: inner }) as unknown as AxAIService;

describe('pointing a provider service at the configured url', () => {
  it('leaves a service that sends there already as it is (its endpoint may add a path)', () => {
    const inner = { apiURL: 'http://127.0.0.1:9/openai/deployments/d', setAPIURL: () => expect.unreachable() };
    sendingTo(wrapped(inner), 'http://127.0.0.1:9', 'url', 'azure-openai');
    expect(inner.apiURL).toBe('http://127.0.0.1:9/openai/deployments/d');
  });

  it('points one that would send to its public host at the url', () => {
    const inner = {
      apiURL: 'https://api.anthropic.com/v1',
      setAPIURL(url: string) {
        this.apiURL = url;
      },
    };
    sendingTo(wrapped(inner), 'http://127.0.0.1:9/v1', 'url', 'anthropic');
    expect(inner.apiURL).toBe('http://127.0.0.1:9/v1');
  });

  it('refuses, naming the setting, one it cannot point there: no request goes where it was not sent', () => {
    const inner = { apiURL: 'https://api.example.com/v1' };
    const attempt = () => sendingTo(wrapped(inner), 'http://127.0.0.1:9/v1', 'TETHER_AI_URL', 'some-provider');
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/TETHER_AI_URL: provider 'some-provider' does not take an endpoint URL/);
  });
});
