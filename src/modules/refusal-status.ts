/**
 * The HTTP status of a provider's refusal of a request's credentials. Ax turns both 401 (no valid key) and 403 (a
 * key without the right to this model or project) into one `AxAIServiceAuthenticationError`, which keeps the request's
 * body but not the status. The `fetch` given to Ax notes the status of each such answer under a digest of the body it
 * answered, so provider-errors.ts can report the status the provider sent.
 *
 * Bounded: the refusals of the newest {@link MAX_NOTED} bodies are kept, each forgotten once read. Of several
 * refusals of the same body, the newest is read first: one never read (an execution cancelled as it was refused, an
 * earlier round of a Refine) must not stand for a later one. Two refusals of the same body in flight together with
 * different statuses (the same prompt sent with two keys) may be read the other way round. A refusal seen by a model
 * that is not ours (an `AxAI` a user built) was never noted, and is reported as 401.
 * @module
 */
import { createHash } from 'node:crypto';

/** How many bodies (and refusals of one body) are remembered at most; more come only from refusals nobody read. */
const MAX_NOTED = 64;

/**
 * Statuses by digest of the refused request's body, oldest digest first: a list, since two executions may send the
 * same body (the same prompt) and be refused together, each reading one status back.
 */
const noted = new Map<string, number[]>();

/** A digest, so that a long prompt is not kept for as long as its refusal is. */
function digest(body: string): string {
  return createHash('sha256').update(body).digest('base64');
}

/** `fetch`, noting the status of every 401 and 403 answer under its request's body. */
export function fetchNotingRefusals(fetch: typeof globalThis.fetch = globalThis.fetch) {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const response = await fetch(input, init);
    if ((response.status === 401 || response.status === 403) && typeof init?.body === 'string') {
      const key = digest(init.body);
      const statuses = noted.get(key) ?? [];
      // Moved to the newest place; a list grows no longer than the refusals in flight, and is kept as bounded.
      noted.delete(key);
      noted.set(key, [...statuses, response.status].slice(-MAX_NOTED));
      if (noted.size > MAX_NOTED) noted.delete(noted.keys().next().value as string);
    }
    return response;
  };
}

/**
 * The status noted for the refusal of the request whose body Ax kept as `requestBody` (it sent that object as JSON),
 * forgotten once read; `undefined` when none was noted.
 */
export function takeRefusalStatus(requestBody: unknown): number | undefined {
  let body: string | undefined;
  try {
    body = JSON.stringify(requestBody);
  } catch {
    return undefined;
  }
  if (body === undefined) return undefined;
  const key = digest(body);
  const statuses = noted.get(key);
  const status = statuses?.pop();
  if (statuses?.length === 0) noted.delete(key);
  return status;
}
