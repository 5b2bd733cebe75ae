/**
 * An execution runs on its inputs as they were when `execute` was called: a caller that reuses one inputs object for
 * several calls, or an inspector that edits a module snapshot, changes no execution.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Runtime, createEchoModel } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();
const SPEC = { type: 'Predict', signature: 'question:string, cfg?:json, when?:date -> answer:string' } as const;

/** The echo model's answer names the prompt's inputs: the question, and the cfg as JSON. */
const answerOf = async (call: Promise<{ output: Record<string, unknown> }>): Promise<string> =>
  String((await call).output.answer);

describe('execute takes its inputs as they were at the call', () => {
  it('embedded and remote: a reused inputs object changed after each call changes no execution', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    // One module, through the node's own API and through a client.
    const remote = await (await client.session('reuse')).module('qa', SPEC);
    const modules = { embedded: await (await node.session('reuse')).module('qa'), remote };
    for (const [kind, module] of Object.entries(modules)) {
      // A Date makes the remote handle check the inputs (an await) before it encodes them.
      const inputs: { question: string; cfg: { level: string }; when: Date } = {
        question: 'first',
        cfg: { level: 'low' },
        when: new Date(0),
      };
      const first = answerOf(module.execute(inputs));
      inputs.question = 'second';
      inputs.cfg.level = 'high';
      inputs.when.setTime(86_400_000);
      const second = answerOf(module.execute(inputs));
      inputs.question = 'changed after both';
      inputs.cfg.level = 'changed after both';
      const answers = await Promise.all([first, second]);
      expect(answers[0], kind).toMatch(/Question: first Cfg: \{ "level": "low" \} When: 1970-01-01/);
      expect(answers[1], kind).toMatch(/Question: second Cfg: \{ "level": "high" \} When: 1970-01-02/);
    }
  });

  it('an inspector that edits a module snapshot in place changes nothing the execution reads', async () => {
    const edited: string[] = [];
    const redact = (event: InspectionEvent): void => {
      if (event.type !== '@xstate.snapshot') return;
      const current = (event.snapshot as { context?: { current?: { inputs?: Record<string, unknown> } } }).context
        ?.current;
      if (!current?.inputs) return;
      try {
        current.inputs.question = 'REDACTED';
      } catch {
        edited.push('refused');
      }
    };
    const runtime = await Runtime.start({ llm: createEchoModel(), inspect: redact, onError: () => {} });
    try {
      const qa = await (await runtime.session('inspected')).module('qa', SPEC);
      expect(await answerOf(qa.execute({ question: 'secret' }))).toMatch(/Question: secret /);
      // The inspector saw the inputs (and its edit was refused), so the check above is not vacuous.
      expect(edited.length).toBeGreaterThan(0);
    } finally {
      await runtime.stop();
    }
  });
});
