/**
 * A VariableAwarePredict on a FakeSession holding an LLM temperature, max tokens and model: the subject of the
 * VariableAwareMixin tests (test/modules/variable-aware-*.test.ts).
 */
import { VariableAwarePredict, createEchoModel, type SyncErrorHandler } from '../../src/modules/index.js';
import { FakeSession } from './fake-session.js';

/** The signature of the module {@link setup} makes. */
export const SIGNATURE = 'question:string -> answer:string';

/** A fresh session and a module on it (echo model), reporting sync errors to `onSyncError` when given. */
export function setup(onSyncError?: SyncErrorHandler) {
  const session = new FakeSession('mixin-session', { llm_temperature: 0.7, max_tokens: 256, llm_model: 'gpt-4o-mini' });
  const module = new VariableAwarePredict(SIGNATURE, {
    session,
    llm: createEchoModel(),
    ...(onSyncError ? { onSyncError } : {}),
  });
  return { session, module };
}
