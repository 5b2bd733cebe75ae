/**
 * A session one of whose modules is executing is in use: its idle expiry waits for the execution, and counts from
 * its end, not from the sync that read the variables when it began.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { useOpenAIStub } from './support/openai-stub.js';

const SPEC = { type: 'Predict', signature: 'question -> answer', bindings: { temperature: 'temperature' } } as const;

describe('idle expiry of a session whose module executes', () => {
  const { stub, llm } = useOpenAIStub();
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  // Found by a review: the execution failed with process_exited (shutdown) and the session's variables were purged.
  it('waits for an execution longer than the TTL, and counts the idle time from its end', async () => {
    runtime = await Runtime.start({ llm: llm(), sessionTtlMs: 300 });
    const session = await runtime.session('busy');
    await session.defineVariable('temperature', 'float', 0.3);
    const qa = await session.module('qa', SPEC);
    // The provider takes three TTLs (a slow model, a long agent step).
    stub().delayMs = 900;

    const result = await qa.execute({ question: 'why?' });

    expect(result.output).toEqual({ answer: 'stub answer' });
    // Used until the answer came: not expired right after it, by the sweep that would have found it idle.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await session.getVariable('temperature')).toBe(0.3);
    expect(await qa.describe()).toMatchObject({ completed: 1, failed: 0 });
  });
});
