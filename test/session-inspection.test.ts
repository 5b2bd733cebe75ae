import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Runtime, type SessionMachineContext } from '../src/index.js';
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
});
