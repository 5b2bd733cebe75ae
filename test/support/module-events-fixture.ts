/**
 * The setup of the module-events tests (test/nats/module-events-*.nats.test.ts): the file's NATS fixture, a plain
 * connection to its server and the OpenAI-protocol stub, and the module they create.
 */
import { useNatsFixture, usePlainConnection } from './nats-fixture.js';
import { useOpenAIStub } from './openai-stub.js';

/** A Predict whose temperature is bound to variable `t`, with no retries. */
export const spec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { temperature: 't' },
  maxRetries: 0,
};

/** The fixture, the connection and the stub, their hooks registered in that order. */
export function useModuleEventsFixture() {
  const fx = useNatsFixture();
  const nc = usePlainConnection(fx);
  const { stub, llm } = useOpenAIStub();
  return { fx, nc, stub, llm };
}
