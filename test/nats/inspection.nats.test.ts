import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { assign, setup, type InspectionEvent } from 'xstate';
import { Runtime, ValidationError, createEchoModel, subscribeEvents, type InspectedSnapshot } from '../../src/index.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/**
 * A node on fresh buckets, publishing its snapshots when `inspect`; `local` is an embedded inspector beside, and
 * `errors` collects what the node reports.
 */
function startNode(
  inspect: boolean,
  name: string,
  local?: (event: InspectionEvent) => void,
  errors: unknown[] = [],
): Promise<Runtime> {
  const buckets = fx().buckets();
  return Runtime.start({
    onError: (error) => errors.push(error),
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

/** The snapshots published on `subject`, each as `<event> → <state> [<status>]`. */
function stepsOf(seen: readonly { subject: string; snapshot: InspectedSnapshot }[], subject: string): string[] {
  return seen
    .filter((s) => s.subject === subject)
    .map(
      ({ snapshot }) => `${(snapshot.event as { type: string }).type} → ${String(snapshot.value)} [${snapshot.status}]`,
    );
}

/** An inspected node whose modules hibernate after 100 ms idle. */
function hibernatingNode(): Promise<Runtime> {
  return Runtime.start({
    llm: createEchoModel(),
    sessionTtlMs: 60_000,
    hibernateAfterMs: 100,
    nats: { servers: fx().server.url, ...fx().buckets(), name: 'inspected-node', inspect: true },
  });
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
      // The id errors and `tether serve` name the node by.
      expect(sessionSnapshots.every((s) => s.nodeId === node.nodeId && s.nodeId !== undefined)).toBe(true);
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

  it('publishes none of the user’s processes, even one whose machine is called session or module', async () => {
    const errors: unknown[] = [];
    const node = await startNode(true, 'inspected-node', undefined, errors);
    const { seen, stop } = await listen();
    try {
      // A user's own machines named like Tether's, with the context fields Tether's carry.
      const userMachine = (id: string) =>
        setup({}).createMachine({
          id,
          context: ({ input }: { input: { sessionId: string } }) => ({ ...input, moduleId: 'qa', user: 'bob' }),
          on: { touch: { actions: assign({ user: 'alice' }) } },
        });
      const impostors = [
        node.spawn(userMachine('session'), { input: { sessionId: 'real' } }),
        node.spawn(userMachine('session'), { input: { sessionId: 'bob@example.com' } }),
        node.spawn(userMachine('module'), { input: { sessionId: 'real' } }),
      ];
      for (const impostor of impostors) node.cast(impostor, { type: 'touch' });
      // Tether's own session, after the impostors: its last snapshot arriving means theirs would have too.
      const session = await node.session('real');
      await session.defineVariable('t', 'float', 0.5);
      await waitFor(() => seen.some((s) => (s.snapshot.event as { type: string }).type === 'store.committed'), {
        message: 'the real session’s commit',
      });

      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.subject === 'tether.v1.inspect.real.session')).toBe(true);
      expect(seen.every((s) => (s.snapshot.context as { user?: string }).user === undefined)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      stop();
      await node.stop();
    }
  });

  // Found by mutation: the name of a node started without one could be 'tether-node' for all of them, with every test
  // passing; the protocol names it by its host and process, so that tools can tell nodes apart.
  it('names a node started without a name by its host and process in its snapshots', async () => {
    const node = await Runtime.start({
      onError: () => {},
      llm: createEchoModel(),
      nats: { servers: fx().server.url, ...fx().buckets(), inspect: true },
    });
    const { seen, stop } = await listen();
    try {
      await node.session('unnamed');
      await waitFor(() => seen.some((s) => s.subject === 'tether.v1.inspect.unnamed.session'), {
        message: 'a snapshot of the session',
      });
      const nodes = seen.filter((s) => s.subject === 'tether.v1.inspect.unnamed.session').map((s) => s.snapshot.node);
      expect(new Set(nodes)).toEqual(new Set([`tether-node@${hostname()}:${process.pid}`]));
    } finally {
      stop();
      await node.stop();
    }
  });

  // Found by a review: a crash made no snapshot, so a watcher saw the process as still active.
  it('publishes the snapshot a crash leaves, with status error and the error', async () => {
    const node = await startNode(true, 'inspected-node');
    const { seen, stop } = await listen();
    try {
      const session = await node.session('fragile');
      await session.defineVariable('t', 'float', 0.5);
      // An event the session process cannot fold in crashes it.
      node.cast('tether.session.fragile', { type: 'store.changed' });
      await waitFor(() => seen.some((s) => s.snapshot.status === 'error'), { message: 'the crash snapshot' });
      expect(seen.at(-1)).toMatchObject({
        subject: 'tether.v1.inspect.fragile.session',
        snapshot: {
          event: { type: 'xstate.error' },
          status: 'error',
          error: { code: 'internal_error', message: expect.stringMatching(/iterable/) },
          context: { sessionId: 'fragile' },
        },
      });
      // Its next use starts it again, its variable kept.
      expect(await session.getVariable('t')).toBe(0.5);
    } finally {
      stop();
      await node.stop();
    }
  });

  // Found by a review: a module letting its process go when idle looked exactly like one stopped for good.
  it('shows a module that hibernates as such, apart from one stopped for good', async () => {
    const node = await hibernatingNode();
    const { seen, stop } = await listen();
    const steps = () => stepsOf(seen, 'tether.v1.inspect.sleepy.module.qa');
    try {
      const session = await node.session('sleepy');
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      await qa.execute({ question: 'q' });
      await waitFor(() => steps().includes('module.hibernate → hibernated [done]'), { message: 'qa hibernates' });
      expect(node.whereis('tether.module.sleepy.qa')).toBeUndefined();
      await qa.execute({ question: 'q' });
      await qa.stop();
      await waitFor(() => steps().at(-1) === 'xstate.stop → idle [stopped]', { message: 'qa stops' });
      const slept = steps().indexOf('module.hibernate → hibernated [done]');
      // Woken as a new actor, which then runs the execution and is stopped for good.
      expect(steps().slice(slept)).toEqual([
        'module.hibernate → hibernated [done]',
        'xstate.init → idle [active]',
        'execute → syncing [active]',
        'sync.done → executing [active]',
        'execution.delta → executing [active]',
        'execution.done → idle [active]',
        'xstate.stop → idle [stopped]',
      ]);
      // Only the stop for good is a stop.
      expect(steps().filter((step) => step.startsWith('xstate.stop'))).toHaveLength(1);
    } finally {
      stop();
      await node.stop();
    }
  });

  it('shows a module stopped for good while it hibernates as stopped', async () => {
    const node = await hibernatingNode();
    const { seen, stop } = await listen();
    const steps = () => stepsOf(seen, 'tether.v1.inspect.asleep.module.qa');
    try {
      const session = await node.session('asleep');
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      await qa.execute({ question: 'q' });
      await waitFor(() => steps().at(-1) === 'module.hibernate → hibernated [done]', { message: 'qa hibernates' });
      await qa.stop();
      await waitFor(() => steps().at(-1) === 'xstate.stop → hibernated [stopped]', { message: 'qa shown stopped' });
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

  it('refuses an unknown feed to subscribe to, naming it, instead of subscribing to the events', async () => {
    const subscribing = subscribeEvents({ servers: fx().server.url, feed: 'inspekt' as 'inspect' }, () => {});
    await expect(subscribing).rejects.toThrow(ValidationError);
    await expect(subscribing).rejects.toThrow(/unknown feed 'inspekt'/);
  });
});
