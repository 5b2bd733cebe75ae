/**
 * README (module hibernation): an inspector tells a hibernating module from one gone for good. Its actor ends in
 * `hibernated` (status `done`) when it is let go, and a module that then ends asleep (stopped, or with its session)
 * shows that actor stopped: `xstate.stop`, status `stopped`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Runtime, createEchoModel, type ModuleApi, type Session } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

const spec = { type: 'Predict', signature: 'question:string -> answer:string' } as const;

/** Every inspected snapshot of a module actor, as `<actor id>: <event> → <value> [<status>]`. */
function moduleSteps() {
  const steps: { id: string; step: string }[] = [];
  const inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.snapshot') return;
    const id = (event.actorRef as unknown as { id: string }).id;
    if (!id.startsWith('tether.module.')) return;
    const snapshot = event.snapshot as unknown as { value: unknown; status: string };
    steps.push({ id, step: `${event.event.type} → ${String(snapshot.value)} [${snapshot.status}]` });
  };
  const of = (id: string) => steps.filter((s) => s.id === id).map((s) => s.step);
  return { inspect, of };
}

async function untilHibernated(runtime: Runtime, session: Session, modules: ModuleApi[]): Promise<void> {
  await waitFor(
    async () => {
      await session.hasVariable('t'); // keeps the session itself in use
      return modules.every((m) => runtime.whereis(`tether.module.${session.sessionId}.${m.moduleId}`) === undefined);
    },
    { interval: 20, message: 'the modules hibernate' },
  );
}

describe('inspection of a module that ends while it hibernates', () => {
  let runtime: Runtime | undefined;
  afterEach(() => runtime?.stop());

  it('shows a module stopped for good while hibernating as stopped, not as still hibernating', async () => {
    const { inspect, of } = moduleSteps();
    runtime = await Runtime.start({ llm: createEchoModel(), sessionTtlMs: 60_000, hibernateAfterMs: 100, inspect });
    const session = await runtime.session('hib-stop');
    await session.defineVariable('t', 'float', 0.1);
    const qa = await session.module('qa', spec);
    await qa.execute({ question: 'q' });
    await untilHibernated(runtime, session, [qa]);
    expect(of('tether.module.hib-stop.qa').at(-1)).toBe('module.hibernate → hibernated [done]');

    await qa.stop();
    expect(qa.alive).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The module is gone for good: an inspector must be able to tell, as it can for a module stopped awake.
    expect(of('tether.module.hib-stop.qa').at(-1)).toMatch(/^xstate\.stop → .* \[stopped\]$/);
  });

  it("shows a hibernating module ended by its session's deletion as stopped", async () => {
    const { inspect, of } = moduleSteps();
    runtime = await Runtime.start({ llm: createEchoModel(), sessionTtlMs: 60_000, hibernateAfterMs: 100, inspect });
    const session = await runtime.session('hib-del');
    await session.defineVariable('t', 'float', 0.1);
    const qa = await session.module('qa', spec);
    await qa.execute({ question: 'q' });
    await untilHibernated(runtime, session, [qa]);

    await session.delete();
    expect(qa.alive).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(of('tether.module.hib-del.qa').at(-1)).toMatch(/^xstate\.stop → .* \[stopped\]$/);
  });
});
