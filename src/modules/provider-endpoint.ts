/**
 * Where a provider's requests go: the configured `url`, for every Ax provider.
 *
 * Ax takes `apiURL` for most providers, but some of its provider classes never read it: Anthropic's and Gemini's
 * hard-code their public hosts, and the Responses API's (and the one `openai` sends a Responses-only model to)
 * takes none. Left so, a `url` that Tether checked and accepted would be dropped without a word, and every request,
 * API key in its headers, would go to the public host instead of the proxy, gateway or local server the user named.
 * So each service Ax built is pointed at `url` with `setAPIURL` (public on every Ax provider service) when it would
 * send elsewhere; one that cannot be is refused at start, rather than let a request go past the configured endpoint.
 * @module
 */
import type { AxAIService } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';

/** An Ax provider service as far as its endpoint goes. */
interface EndpointService {
  apiURL?: unknown;
  setAPIURL?: (url: string) => void;
}

/**
 * Points every request of `service` at `url`: the services Ax's wrapper holds (its chat service and, for OpenAI, the
 * one for Responses-only models) that would send to another host are given `url` instead.
 * @throws {ValidationError} naming `setting` when one of them would still send elsewhere (an Ax version whose
 *   services are built otherwise): a request must not go where the user did not send it
 */
export function sendingTo(service: AxAIService, url: string, setting: string, provider: string): void {
  const host = new URL(url).host;
  // Ax's `ai()` wraps the provider's service; the wrapper's own fields are private to its types, not to JavaScript.
  const wrapper = service as unknown as { ai?: EndpointService; responsesAI?: EndpointService };
  const inner = [wrapper.ai ?? (service as EndpointService), wrapper.responsesAI];
  for (const each of inner) {
    if (each === undefined || sendsTo(each, host)) continue;
    each.setAPIURL?.(url);
    if (!sendsTo(each, host)) {
      throw new ValidationError(
        `${setting}: provider '${provider}' does not take an endpoint URL in this version of Ax; ` +
          `leave ${setting} unset to use its public endpoint`,
        { variable: setting, details: { field: setting, provider } },
      );
    }
  }
}

/** Whether `service` sends to `host` (its endpoint built from the configured url, which may add a path). */
function sendsTo(service: EndpointService, host: string): boolean {
  if (typeof service.apiURL !== 'string') return false;
  try {
    return new URL(service.apiURL).host === host;
  } catch {
    return false;
  }
}
