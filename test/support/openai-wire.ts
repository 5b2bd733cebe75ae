/**
 * The real Ax OpenAI provider pointed at a fresh local stub, and a FakeSession holding the LLM parameters a module
 * binds: the setup of the OpenAI-protocol tests (test/modules/openai-protocol-*.test.ts), one stub per test.
 */
import { afterEach, beforeEach } from 'vitest';
import { VariableAwarePredict, createLanguageModel, type LanguageModel } from '../../src/modules/index.js';
import { FakeSession } from './fake-session.js';
import { OpenAIStub } from './openai-stub.js';

/** The signature of the modules these tests make. */
export const SIGNATURE = 'question:string -> answer:string';

/** One test's stub (the caller closes it), a model that talks to it, and a session of LLM parameters. */
export interface Wire {
  readonly stub: OpenAIStub;
  readonly llm: LanguageModel;
  readonly session: FakeSession;
}

/** Starts a stub and makes the model and the session for one test. */
export async function startWire(): Promise<Wire> {
  const stub = await OpenAIStub.start();
  // The real Ax OpenAI provider, pointed at the local stub.
  const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
  const session = new FakeSession('wire', { llm_temperature: 0.7, max_tokens: 256, llm_model: 'gpt-4.1-mini' });
  return { stub, llm, session };
}

/** Before each test of the file, starts a wire and hands it to `use`; after it, closes the wire's stub. */
export function useWire(use: (wire: Wire) => void): void {
  let wire: Wire | undefined;
  beforeEach(async () => {
    wire = await startWire();
    use(wire);
  });
  afterEach(async () => {
    await wire?.stub.close();
  });
}

/** A Predict on `session` and `llm` with temperature, max tokens and model bound to the session's variables. */
export async function boundPredictOn(session: FakeSession, llm: LanguageModel): Promise<VariableAwarePredict> {
  const module = new VariableAwarePredict(SIGNATURE, { session, llm, maxRetries: 0 });
  await module.bindToVariable('temperature', 'llm_temperature');
  await module.bindToVariable('maxTokens', 'max_tokens');
  await module.bindToVariable('model', 'llm_model');
  return module;
}
