import { createActor, fromCallback } from 'xstate';
import { describe, expect, it } from 'vitest';
import { moduleMachine, type RunnerCommand, type RunnerEvent, type RunnerInput } from '../machines/module.machine.js';

/** The module machine with a runner the test answers for: it records each command and hands out sendBack. */
function scriptedModule() {
  const commands: RunnerCommand[] = [];
  let answer: (event: RunnerEvent) => void = () => {};
  const actor = createActor(
    moduleMachine.provide({
      actors: {
        moduleRunner: fromCallback<RunnerCommand, RunnerInput>(({ sendBack, receive }) => {
          answer = sendBack;
          receive((command) => commands.push(command));
        }),
      },
    }),
    { input: { moduleId: 'qa', sessionId: 's', moduleType: 'Predict', signature: 'question -> answer' } },
  );
  const replies: unknown[] = [];
  actor.on('tether.reply', (reply) => replies.push(reply));
  actor.start();
  return { actor, commands, answer: (event: RunnerEvent) => answer(event), replies };
}

const outcome = { moduleType: 'Predict', changes: {} };
const result = { moduleType: 'Predict', model: 'stub-model', output: { answer: 'ok' }, provenance: {} };

describe('module machine', () => {
  it('takes only the current run’s answers: a cancelled run’s late sync does not start a resubmitted execution', () => {
    const { actor, commands, answer } = scriptedModule();
    actor.send({ type: 'execute', executionId: 'x', inputs: {} });
    expect(commands).toEqual([{ type: 'sync', run: 1 }]);
    actor.send({ type: 'cancel', executionId: 'x' });
    expect(actor.getSnapshot().value).toBe('idle');
    // The caller sends the same execution id again (ids come from callers); the old sync answers late.
    actor.send({ type: 'execute', executionId: 'x', inputs: {} });
    answer({ type: 'sync.done', run: 1, outcome });
    expect(actor.getSnapshot().value).toBe('syncing');
    answer({ type: 'sync.done', run: 2, outcome });
    expect(actor.getSnapshot().value).toBe('executing');
    expect(commands.at(-1)).toMatchObject({ type: 'execute', run: 2, execution: { executionId: 'x' } });
    answer({ type: 'execution.done', run: 1, result });
    expect(actor.getSnapshot().value).toBe('executing');
    answer({ type: 'execution.done', run: 2, result });
    expect(actor.getSnapshot()).toMatchObject({ value: 'idle', context: { completed: 1, failed: 1 } });
  });

  it('tells the runner to abort the running execution on its cancel, and drops its late answer', () => {
    const { actor, commands, answer } = scriptedModule();
    actor.send({ type: 'execute', executionId: 'a', inputs: {} });
    answer({ type: 'sync.done', run: 1, outcome });
    actor.send({ type: 'cancel', executionId: 'a', reason: 'user' });
    expect(commands.at(-1)).toMatchObject({ type: 'abort', run: 1 });
    answer({ type: 'execution.done', run: 1, result });
    expect(actor.getSnapshot()).toMatchObject({ value: 'idle', context: { completed: 0, failed: 1 } });
  });

  it('announces and counts an execution cancelled while it waited in the mailbox, as a running one', () => {
    const { actor, commands, answer, replies } = scriptedModule();
    const failures: unknown[] = [];
    actor.on('module.failed', (event) => failures.push(event));
    actor.send({ type: 'execute', executionId: 'running', inputs: {} });
    actor.send({ type: 'execute', executionId: 'waiting', callId: 'c1', inputs: {} });
    actor.send({ type: 'cancel', executionId: 'waiting', reason: 'timed out' });
    const error = {
      code: 'execution_aborted',
      message: "execution 'waiting' of module 'qa' was aborted: timed out",
      details: { moduleId: 'qa', executionId: 'waiting', reason: 'timed out' },
    };
    expect(failures).toEqual([{ type: 'module.failed', moduleId: 'qa', executionId: 'waiting', error }]);
    expect(replies).toEqual([{ type: 'tether.reply', callId: 'c1', result: { ok: false, error } }]);
    // The running execution goes on, and nothing starts for the cancelled one.
    answer({ type: 'sync.done', run: 1, outcome });
    answer({ type: 'execution.done', run: 1, result });
    expect(commands.filter((command) => command.type === 'sync')).toHaveLength(1);
    expect(actor.getSnapshot()).toMatchObject({ value: 'idle', context: { completed: 1, failed: 1 } });
    expect(actor.getSnapshot().context.mailbox.length).toBe(0);
  });

  it('refuses an execution whose id one running or queued has, leaving both to run as they were', () => {
    const { actor, commands, answer, replies } = scriptedModule();
    actor.send({ type: 'execute', executionId: 'a', inputs: {} });
    actor.send({ type: 'execute', executionId: 'b', inputs: {} });
    actor.send({ type: 'execute', executionId: 'a', callId: 'c1', inputs: {} });
    actor.send({ type: 'execute', executionId: 'b', callId: 'c2', inputs: {} });
    expect(replies).toMatchObject([
      { callId: 'c1', result: { ok: false, error: { code: 'already_exists', details: { executionId: 'a' } } } },
      { callId: 'c2', result: { ok: false, error: { code: 'already_exists', details: { executionId: 'b' } } } },
    ]);
    expect([...actor.getSnapshot().context.mailbox].map((queued) => queued.executionId)).toEqual(['b']);
    answer({ type: 'sync.done', run: 1, outcome });
    answer({ type: 'execution.done', run: 1, result });
    answer({ type: 'sync.done', run: 2, outcome });
    answer({ type: 'execution.done', run: 2, result });
    expect(commands.filter((command) => command.type === 'execute')).toHaveLength(2);
    expect(actor.getSnapshot()).toMatchObject({ value: 'idle', context: { completed: 2, failed: 0 } });
  });

  it('answers a cancel with whether it found the execution, running or queued', () => {
    const { actor, replies } = scriptedModule();
    actor.send({ type: 'execute', executionId: 'running', inputs: {} });
    actor.send({ type: 'execute', executionId: 'queued', inputs: {} });
    actor.send({ type: 'cancel', executionId: 'queued', callId: 'c1' });
    actor.send({ type: 'cancel', executionId: 'unknown', callId: 'c2' });
    actor.send({ type: 'cancel', executionId: 'running', callId: 'c3' });
    actor.send({ type: 'cancel', executionId: 'running', callId: 'c4' });
    expect(replies).toEqual([
      { type: 'tether.reply', callId: 'c1', result: { ok: true, value: true } },
      { type: 'tether.reply', callId: 'c2', result: { ok: true, value: false } },
      { type: 'tether.reply', callId: 'c3', result: { ok: true, value: true } },
      { type: 'tether.reply', callId: 'c4', result: { ok: true, value: false } },
    ]);
  });

  // Found by a review: the list was the process's own, open to an inspector's edits, as the mailbox no longer is.
  it('keeps its abandoned syncs frozen, so an inspector that trims them cannot silence a late answer', () => {
    const { actor, answer } = scriptedModule();
    const synced: unknown[] = [];
    actor.on('module.synced', (event) => synced.push(event));
    actor.send({ type: 'execute', executionId: 'x', inputs: {} });
    actor.send({ type: 'cancel', executionId: 'x' });
    const { abandonedSyncs } = actor.getSnapshot().context;
    expect(abandonedSyncs).toEqual([{ run: 1, executionId: 'x' }]);
    expect(Object.isFrozen(abandonedSyncs)).toBe(true);
    expect(Object.isFrozen(abandonedSyncs[0])).toBe(true);
    expect(() => (abandonedSyncs as unknown[]).splice(0)).toThrow(TypeError);
    answer({ type: 'sync.done', run: 1, outcome });
    expect(synced).toEqual([{ type: 'module.synced', moduleId: 'qa', executionId: 'x', outcome }]);
    expect(Object.isFrozen(actor.getSnapshot().context.abandonedSyncs)).toBe(true);
  });
});
