/**
 * An embedded runtime on the local OpenAI stub for each test of a file, with one session open, stopped after each
 * test: the setup of module tests that check what goes over the wire to the provider.
 * @module
 */
import { afterEach, beforeEach } from 'vitest';
import { Runtime, type Session } from '../../src/index.js';
import { useOpenAIStub, type OpenAIStub } from './openai-stub.js';

/** The stub, and each test's runtime and its session `sessionId` (read them inside a test or a later hook). */
export function useStubbedSession(sessionId: string): {
  stub: () => OpenAIStub;
  runtime: () => Runtime;
  session: () => Session;
} {
  const stubbed = useOpenAIStub();
  let runtime: Runtime | undefined;
  let session: Session | undefined;
  beforeEach(async () => {
    runtime = await Runtime.start({ llm: stubbed.llm() });
    session = await runtime.session(sessionId);
  });
  afterEach(async () => {
    await runtime?.stop();
  });
  const current = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useStubbedSession(): the runtime starts in beforeEach');
    return value;
  };
  return { stub: stubbed.stub, runtime: () => current(runtime), session: () => current(session) };
}
