/**
 * The error a module event carries is frozen throughout, as the result and the events are: every listener, the caller
 * and a result's `syncFailed` share one object, and none may change what the others see (found by a review: a
 * listener that redacted an error in place rewrote the caller's).
 */
import { describe, expect, it } from 'vitest';
import { httpError } from '../support/openai-stub.js';
import { useStubbedSession } from '../support/stubbed-session.js';

const { stub, session } = useStubbedSession('frozen-errors');

const SPEC = { type: 'Predict', signature: 'question:string -> answer:string', maxRetries: 0 } as const;

/** What a listener that redacts or annotates errors in place would do; a frozen error makes it throw (caught). */
function tamper(error: { message: string; details: Record<string, unknown> }): void {
  try {
    error.message = 'rewritten by a listener';
    error.details.status = 200;
    error.details.variable = 'rewritten';
  } catch {
    // Frozen: nothing changed, as it should be.
  }
}

describe('the error of a module event', () => {
  it("of module.failed is frozen: a listener changes neither the next listener's event nor the caller's error", async () => {
    const qa = await session().module('qa', SPEC);
    const heard: { frozen: boolean; detailsFrozen: boolean }[] = [];
    qa.on('module.failed', (event) => {
      const error = event.error as unknown as { message: string; details: Record<string, unknown> };
      heard.push({ frozen: Object.isFrozen(error), detailsFrozen: Object.isFrozen(error.details) });
      tamper(error);
    });
    let second: { message: string; status: unknown } | undefined;
    qa.on('module.failed', (event) => {
      second = { message: event.error.message, status: (event.error.details as { status?: unknown }).status };
    });
    stub().reply(httpError(500, 'The server had an error'));
    const error = (await qa.execute({ question: 'q' }).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      details: Record<string, unknown>;
    };
    // The caller's ProviderError is built from the event's error object after the listeners ran ...
    expect(error.code).toBe('provider_error');
    expect({ message: error.message, status: error.details.status }).toEqual({
      message: expect.stringMatching(/HTTP 500/),
      status: 500,
    });
    // ... and so does the next listener.
    expect(second).toEqual({ message: expect.stringMatching(/HTTP 500/), status: 500 });
    expect(heard).toEqual([{ frozen: true, detailsFrozen: true }]);
  });

  it("of module.syncFailed, which a result's syncFailed shares, is frozen, as the result it is part of", async () => {
    await session().defineVariable('llm_temperature', 'float', 0.5);
    const qa = await session().module('qa', { ...SPEC, bindings: { temperature: 'llm_temperature' } });
    // A float takes NaN; the bound temperature refuses it, so the sync before the execution is refused.
    await session().setVariable('llm_temperature', Number.NaN);
    qa.on('module.syncFailed', (event) =>
      tamper(event.error as unknown as { message: string; details: Record<string, unknown> }),
    );
    const result = await qa.execute({ question: 'q' });
    const refused = result.syncFailed as unknown as { message: string; details: Record<string, unknown> };
    expect(refused).toBeDefined();
    expect({ variable: refused.details.variable, message: refused.message }).toEqual({
      variable: 'llm_temperature',
      message: expect.stringMatching(/held by variable 'llm_temperature'/),
    });
    expect(Object.isFrozen(refused)).toBe(true);
    expect(Object.isFrozen(refused.details)).toBe(true);
  });
});
