/**
 * An execution runs on its inputs as they were when `execute` was called: a caller that reuses one inputs object for
 * several calls, or an inspector that edits a module snapshot, changes no execution.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createEchoModel } from '../../src/index.js';
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

  it('an inspector that edits a module snapshot in place changes nothing, embedded or on the node of a remote call', async () => {
    let edits = 0;
    const redact = (event: InspectionEvent): void => {
      if (event.type !== '@xstate.snapshot') return;
      const current = (event.snapshot as { context?: { current?: { inputs?: Record<string, unknown> } } }).context
        ?.current;
      if (!current?.inputs) return;
      edits += 1;
      try {
        current.inputs.question = 'REDACTED';
      } catch {
        // Refused: the inputs are frozen.
      }
      try {
        (current.inputs.when as Date).setUTCFullYear(1999);
      } catch {
        // Refused: so are their Dates.
      }
      try {
        // A redacted copy put in their place (found in review: the execution then ran on it).
        current.inputs = { ...current.inputs, question: 'REDACTED' };
      } catch {
        // Refused: the execution's record is frozen too.
      }
    };
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel(), inspect: redact });
    const client = await fx().client();
    const remote = await (await client.session('inspected')).module('qa', SPEC);
    const embedded = await (await node.session('inspected')).module('qa');
    for (const module of [embedded, remote]) {
      const before = edits;
      expect(await answerOf(module.execute({ question: 'secret', when: new Date(0) }))).toMatch(
        /Question: secret When: 1970-01-01/,
      );
      // The inspector saw the inputs each time, so the check above is not vacuous.
      expect(edits).toBeGreaterThan(before);
    }
  });

  it("an inspector that empties a module snapshot's mailbox drops no queued execution", async () => {
    let spliced = 0;
    const splice = (event: InspectionEvent): void => {
      if (event.type !== '@xstate.snapshot') return;
      const mailbox = (event.snapshot as { context?: { mailbox?: unknown[] } }).context?.mailbox;
      if (!mailbox?.length) return;
      spliced += 1;
      try {
        mailbox.splice(0);
      } catch {
        // Refused: the mailbox is frozen.
      }
    };
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel(), inspect: splice });
    const qa = await (await node.session('queued')).module('qa', SPEC);
    const answers = await Promise.all(['one', 'two', 'three'].map((question) => answerOf(qa.execute({ question }))));
    expect(answers.map((answer) => /Question: (\w+)/.exec(answer)?.[1])).toEqual(['one', 'two', 'three']);
    expect(spliced).toBeGreaterThan(0);
  });

  it('refuses inputs it cannot copy as the check names them: a part inside itself, an inherited getter that throws', async () => {
    const node = await fx().runtime(fx().buckets(), { llm: createEchoModel() });
    const client = await fx().client();
    const remote = await (await client.session('uncopied')).module('qa', SPEC);
    const embedded = await (await node.session('uncopied')).module('qa');
    // A tree whose nodes point back at their parent: each back edge doubles a walk that does not see the cycle.
    const root: Record<string, unknown> = { name: 'root' };
    root.children = [
      { name: 'a', parent: root },
      { name: 'b', parent: root },
    ];
    const inherited = Object.create({
      get question(): string {
        throw new Error('boom');
      },
    }) as Record<string, unknown>;
    for (const module of [embedded, remote]) {
      await expect(module.execute({ question: 'q', cfg: root })).rejects.toMatchObject({
        code: 'validation_failed',
        message: "input field 'cfg' is nested deeper than 256 levels",
      });
      await expect(module.execute(inherited)).rejects.toMatchObject({
        code: 'validation_failed',
        message: "input field 'question' could not be read: boom",
        details: { constraint: 'unreadable' },
      });
    }
  });
});
