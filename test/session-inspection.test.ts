import { createMachine, type AnyMachineSnapshot, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Runtime, type SessionMachineContext } from '../src/index.js';
import { waitFor } from './support/wait-for.js';
import { crashOnBoomMachine, crashOnStartMachine } from './runtime/fixtures.js';
import { createMemoryStore } from '../src/store/memory-store.js';
import type { VariableRecord } from '../src/variables/types.js';

describe('session processes under inspection', () => {
  it('show a new snapshot, with a higher appliedRevision, for every store change they fold in', async () => {
    const store = createMemoryStore<VariableRecord>();
    const snapshots: { context: SessionMachineContext }[] = [];
    const runtime = await Runtime.start({
      store,
      inspect: (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot') return;
        const context = (event.snapshot as { context?: Partial<SessionMachineContext> }).context;
        if (context?.sessionId === 'inspected')
          snapshots.push(event.snapshot as unknown as { context: SessionMachineContext });
      },
    });
    try {
      const session = await runtime.session('inspected');
      const defined = await session.defineVariable('t', 'float', 0.1);
      const set = await session.setVariable('t', 0.2);
      // A write from elsewhere (another node's commit, as the router would deliver it).
      const entry = (await store.get('inspected.t'))!;
      const outside = await store.update(
        'inspected.t',
        { ...set, value: 0.3, version: set.version + 1 },
        entry.revision,
      );
      await expect.poll(() => session.getVariable('t')).toBe(0.3);

      const revisions = snapshots.map((s) => s.context.appliedRevision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(revisions.at(-1)).toBe(outside);
      expect(revisions).toContain(entry.revision);
      // Each change folded in made a snapshot of its own (a selector comparing snapshots sees it).
      const afterOutside = snapshots.findIndex((s) => s.context.appliedRevision === outside);
      expect(snapshots[afterOutside]).not.toBe(snapshots[afterOutside - 1]);
      expect(defined.version).toBe(1);
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: the snapshots held the maps the process updates in place, so a kept snapshot changed later
  // and a serialized one showed `variables: {}`.
  it('give an inspector snapshots it can keep and serialize: the variables as they were, as plain objects', async () => {
    const kept: { value: unknown; context: { variables: Record<string, { value: unknown }> } }[] = [];
    const runtime = await Runtime.start({
      inspect: {
        next: (event: InspectionEvent) => {
          if (event.type !== '@xstate.snapshot') return;
          const snapshot = event.snapshot as unknown as (typeof kept)[number] & { context: { sessionId?: unknown } };
          if (snapshot.context?.sessionId === 'kept') kept.push(snapshot);
        },
      },
    });
    try {
      const session = await runtime.session('kept');
      await session.defineVariable('t', 'float', 0.1);
      await session.setVariable('t', 0.2);
      await session.setVariable('t', 0.3);
      const values = kept.map((snapshot) => snapshot.context.variables['t']?.value);
      expect(values.filter((value, i) => i === 0 || value !== values[i - 1])).toEqual([undefined, 0.1, 0.2, 0.3]);
      const last = JSON.parse(JSON.stringify(kept.at(-1))) as (typeof kept)[number];
      expect(last.context.variables['t']).toMatchObject({ name: 't', value: 0.3, version: 3 });
      expect(last.value).toEqual({ active: 'idle' });
      // Frozen down to the records, as the README says: a kept snapshot cannot be changed by whoever keeps it.
      const context = kept.at(-1)!.context as unknown as Record<string, Record<string, unknown>>;
      for (const frozen of [context, context['variables'], context['revisions'], context['variables']!['t']])
        expect(Object.isFrozen(frozen)).toBe(true);
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: only macrostep snapshots were copied; each microstep's still held the live maps.
  it("give each microstep's snapshot the variables as they were then, as plain frozen objects, too", async () => {
    const steps: { context: { sessionId?: unknown; appliedRevision: number; variables: unknown } }[] = [];
    const runtime = await Runtime.start({
      inspect: (event: InspectionEvent) => {
        if (event.type !== '@xstate.microstep') return;
        const snapshot = event.snapshot as unknown as (typeof steps)[number];
        if (snapshot.context?.sessionId === 'stepped') steps.push(snapshot);
      },
    });
    try {
      const session = await runtime.session('stepped');
      await session.defineVariable('t', 'float', 0.1);
      await session.setVariable('t', 0.2);
      await session.setVariable('t', 0.3);
      expect(steps.length).toBeGreaterThan(0);
      for (const { context } of steps) {
        expect(context.variables).not.toBeInstanceOf(Map);
        expect(Object.isFrozen(context.variables)).toBe(true);
      }
      // Kept, each shows what the session held at its step: the values only ever move forward.
      const values = steps.map(
        ({ context }) => JSON.parse(JSON.stringify(context.variables)).t?.value as number | undefined,
      );
      expect(values).toContain(0.1);
      expect(values.at(-1)).toBe(0.3);
      expect(values.filter((value, i) => i === 0 || value !== values[i - 1])).toEqual([undefined, 0.1, 0.2, 0.3]);
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: the store's changes an inspector is shown before the session applies them were in arrays it
  // could write into, so one that masked a secret for display (a copy of the frozen change, put back in the list) made
  // the session hold '***'.
  it('hold the values the store has when an inspector masks the store changes it is shown', async () => {
    const store = createMemoryStore<VariableRecord>();
    const shown: string[] = [];
    let refused = 0;
    type Change = { key: string; value?: { value: unknown } };
    const mask = (event: InspectionEvent): void => {
      if (event.type !== '@xstate.event') return;
      const { type, changes, entries } = event.event as { type: string; changes?: Change[]; entries?: Change[] };
      const list = type === 'store.changed' ? changes : type === 'store.loaded' ? entries : undefined;
      if (!list?.some((change) => change.key === 'masked.secret')) return;
      shown.push(type);
      list.forEach((change, i) => {
        try {
          if (typeof change.value?.value === 'string')
            list[i] = { ...change, value: { ...change.value, value: '***' } };
        } catch {
          refused++; // frozen, as it should be
        }
      });
    };
    const writer = await Runtime.start({ store });
    const inspected = await Runtime.start({ store, inspect: mask });
    try {
      const writes = await writer.session('masked');
      await writes.defineVariable('secret', 'string', 'hunter2');
      // Loaded (store.loaded) on the inspected runtime, then changed there by the other one (store.changed, routed).
      const session = await inspected.session('masked');
      expect(await session.getVariable('secret')).toBe('hunter2');
      await writes.setVariable('secret', 'swordfish');
      await expect.poll(() => shown).toEqual(['store.loaded', 'store.changed']);
      expect(await session.getVariable('secret')).toBe('swordfish');
      expect(refused).toBe(2);
    } finally {
      await inspected.stop();
      await writer.stop();
    }
  });

  // Found by a review: it was reported as `process <name>`, as a crash is, once per inspection event.
  it("report an inspector that throws once per process, as the inspector's, and go on working", async () => {
    const reports: string[] = [];
    const runtime = await Runtime.start({
      onError: (_error, where) => reports.push(where),
      inspect: () => {
        throw new Error('bad tool');
      },
    });
    try {
      const session = await runtime.session('watched');
      await session.defineVariable('t', 'float', 0.1);
      await session.setVariable('t', 0.2);
      expect(await session.getVariable('t')).toBe(0.2);
      expect(reports).toEqual(['inspector of process tether.session.watched']);
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: XState inspects no snapshot when a transition throws, so a crashed process looked alive.
  it('show the snapshot a crash left, with status error and the error, after the last good one', async () => {
    const snapshots: { id: string; event: string; status: string; error?: unknown }[] = [];
    const runtime = await Runtime.start({
      onError: () => {},
      inspect: (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot') return;
        const { status, error } = event.snapshot as { status: string; error?: unknown };
        const { id } = event.actorRef as unknown as { id: string };
        snapshots.push({ id, event: event.event.type, status, error });
      },
    });
    try {
      const fragile = runtime.spawn(crashOnBoomMachine, { name: 'fragile' });
      runtime.cast(fragile, { type: 'boom' });
      await waitFor(() => !fragile.alive, { message: 'fragile crashed' });
      expect(snapshots.filter((s) => s.id === 'fragile').at(-1)).toEqual({
        id: 'fragile',
        event: 'xstate.error',
        status: 'error',
        error: expect.objectContaining({ message: 'boom' }),
      });
      // A crash while starting: XState shows its snapshot of the start (active) after telling of the error.
      const stillborn = runtime.spawn(crashOnStartMachine, { name: 'stillborn' });
      expect(stillborn.alive).toBe(false);
      await waitFor(() => snapshots.some((s) => s.id === 'stillborn' && s.status === 'error'), {
        message: 'the snapshot of the failed start',
      });
      expect(snapshots.filter((s) => s.id === 'stillborn').at(-1)).toMatchObject({
        event: 'xstate.error',
        status: 'error',
        error: expect.objectContaining({ message: 'cannot start' }),
      });
      // A session process too: an event it cannot fold in crashes it.
      const session = await runtime.session('crashing');
      await session.defineVariable('t', 'float', 0.1);
      runtime.cast('tether.session.crashing', { type: 'store.changed' });
      await waitFor(() => runtime.whereis('tether.session.crashing') === undefined, { message: 'the session crashed' });
      expect(snapshots.filter((s) => s.id === 'tether.session.crashing').at(-1)).toMatchObject({
        event: 'xstate.error',
        status: 'error',
        error: expect.any(TypeError),
      });
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: the crash came a microtask late, after the first snapshots of the process started in its place.
  it("show a session's crash before the snapshots of the process that replaces it", async () => {
    const lines: string[] = [];
    const runtime = await Runtime.start({
      onError: () => {},
      inspect: (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot') return;
        if ((event.actorRef as unknown as { id: string }).id !== 'tether.session.fragile') return;
        lines.push(`${event.event.type} [${(event.snapshot as { status: string }).status}]`);
      },
    });
    try {
      const session = await runtime.session('fragile');
      await session.defineVariable('t', 'float', 0.1);
      // An event the session process cannot fold in crashes it; the next use of its handle, in the same turn, starts
      // its next process under the same name.
      runtime.cast('tether.session.fragile', { type: 'store.changed' });
      expect(await session.getVariable('t')).toBe(0.1);
      const crash = lines.indexOf('xstate.error [error]');
      const inits = lines.flatMap((line, i) => (line.startsWith('xstate.init') ? [i] : []));
      expect(inits).toHaveLength(2);
      expect(crash).toBeGreaterThan(inits[0]!);
      expect(crash).toBeLessThan(inits[1]!);
      expect(lines.at(-1)).not.toMatch(/\[error\]$/);
    } finally {
      await runtime.stop();
    }
  });

  // Found by a review: actors showed only as `<0.N>`, and a module woken from hibernation under another one.
  it('name each session and module actor by its process name, the same after a module wakes again', async () => {
    const named: string[] = [];
    const announced: string[] = [];
    const moduleEnds: string[] = [];
    const runtime = await Runtime.start({
      sessionTtlMs: 60_000,
      hibernateAfterMs: 100,
      inspect: (event: InspectionEvent) => {
        // What Stately's inspector names an actor by, at the one event that announces it.
        if (event.type === '@xstate.actor') announced.push((event.actorRef as unknown as { id: string }).id);
        const { systemId } = event.actorRef as { systemId?: string };
        const { status, value } = event.type === '@xstate.snapshot' ? (event.snapshot as AnyMachineSnapshot) : {};
        if (systemId === 'tether.module.named.qa' && status !== undefined && status !== 'active')
          moduleEnds.push(
            `${event.type === '@xstate.snapshot' ? event.event.type : ''} → ${String(value)} [${status}]`,
          );
        // Its first snapshot: XState sets the systemId after announcing the actor (`@xstate.actor`).
        if (event.type === '@xstate.snapshot' && event.event.type === 'xstate.init' && systemId?.startsWith('tether.'))
          named.push(systemId);
      },
    });
    try {
      const session = await runtime.session('named');
      const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      await waitFor(() => runtime.whereis('tether.module.named.qa') === undefined, { message: 'qa hibernates' });
      await qa.execute({ question: 'q' });
      expect(named.filter((name) => name === 'tether.module.named.qa')).toHaveLength(2);
      // Its first actor ended asleep, not stopped: a hibernation has a final state of its own.
      expect(moduleEnds).toEqual(['module.hibernate → hibernated [done]']);
      expect(named).toContain('tether.session.named');
      expect(announced.filter((id) => id === 'tether.module.named.qa')).toHaveLength(2);
      expect(announced).toContain('tether.session.named');
      // A process without a name goes by its pid.
      const unnamed = runtime.spawn(createMachine({}));
      expect(announced.at(-1)).toBe(unnamed.id);
    } finally {
      await runtime.stop();
    }
  });
});
