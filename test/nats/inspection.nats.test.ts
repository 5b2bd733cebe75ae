import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Runtime, createEchoModel, type InspectedSnapshot } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** A node on fresh buckets, publishing its snapshots when `inspect`; `local` is an embedded inspector beside. */
function startNode(inspect: boolean, name: string, local?: (event: InspectionEvent) => void): Promise<Runtime> {
  const buckets = fx().buckets();
  return Runtime.start({
    onError: () => {},
    llm: createEchoModel(),
    ...(local ? { inspect: local } : {}),
    nats: {
      servers: fx().server.url,
      ...buckets,
      name,
      inspect,
    },
  });
}

/** Collects what is published on the inspection subjects until `stop`. */
async function listen(): Promise<{ seen: { subject: string; snapshot: InspectedSnapshot }[]; stop: () => void }> {
  const seen: { subject: string; snapshot: InspectedSnapshot }[] = [];
  const subscription = nc().subscribe('tether.v1.inspect.>', {
    callback: (_error, msg) => seen.push({ subject: msg.subject, snapshot: msg.json() }),
  });
  await nc().flush();
  return { seen, stop: () => subscription.unsubscribe() };
}

describe('inspection over NATS', () => {
  it('publishes every snapshot of the session and module processes of a node started with inspect', async () => {
    const local: InspectionEvent[] = [];
    const node = await startNode(true, 'inspected-node', (event) => local.push(event));
    const { seen, stop } = await listen();
    try {
      const session = await node.session('insp');
      await session.defineVariable('t', 'float', 0.5);
      await session.setVariable('t', 0.9);
      const qa = await session.module('qa', {
        type: 'Predict',
        signature: 'question:string -> answer:string',
        bindings: { temperature: 't' },
      });
      await qa.execute({ question: 'why?' });
      await waitFor(
        () =>
          seen.some(
            (s) =>
              s.snapshot.machine === 'module' &&
              s.snapshot.event &&
              (s.snapshot.event as { type: string }).type === 'execution.done',
          ),
        { message: 'the execution’s last snapshot' },
      );

      const sessionSnapshots = seen
        .filter((s) => s.subject === 'tether.v1.inspect.insp.session')
        .map((s) => s.snapshot);
      expect(sessionSnapshots.every((s) => s.machine === 'session' && s.node === 'inspected-node')).toBe(true);
      expect(sessionSnapshots.map((s) => s.value)).toContainEqual({ active: 'writing' });
      const last = sessionSnapshots.at(-1)!;
      expect(last.value).toEqual({ active: 'idle' });
      expect(last.context).toMatchObject({ sessionId: 'insp', variables: { t: { value: 0.9, version: 2 } } });

      const moduleSnapshots = seen
        .filter((s) => s.subject === 'tether.v1.inspect.insp.module.qa')
        .map((s) => s.snapshot);
      // The execution's path through the machine, each step with the event that caused it.
      const steps = moduleSnapshots.map((s) => `${(s.event as { type: string }).type} → ${String(s.value)}`);
      expect(steps).toEqual(
        expect.arrayContaining(['execute → syncing', 'sync.done → executing', 'execution.done → idle']),
      );
      expect(steps.indexOf('execute → syncing')).toBeLessThan(steps.indexOf('execution.done → idle'));
      expect(moduleSnapshots.at(-1)).toMatchObject({ moduleId: 'qa', sessionId: 'insp', context: { completed: 1 } });
      // An embedded inspector given beside still sees everything.
      expect(local.filter((e) => e.type === '@xstate.snapshot').length).toBeGreaterThanOrEqual(seen.length);
    } finally {
      stop();
      await node.stop();
    }
  });

  it('publishes nothing from a node started without it', async () => {
    const node = await startNode(false, 'quiet-node');
    const { seen, stop } = await listen();
    try {
      const session = await node.session('quiet');
      await session.defineVariable('t', 'float', 0.5);
      await session.setVariable('t', 0.7);
      await nc().flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toEqual([]);
    } finally {
      stop();
      await node.stop();
    }
  });
});
