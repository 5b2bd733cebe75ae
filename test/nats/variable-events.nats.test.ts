import { describe, expect, it } from 'vitest';
import type { VariableChange } from '../../src/session/session-context.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

const fx = useNatsFixture();
const nc = usePlainConnection(fx);

/** Lets anything still on its way arrive: a round trip through the server after the last publish. */
async function settle(): Promise<void> {
  await nc().flush();
  await new Promise((resolve) => setTimeout(resolve, 200));
  await nc().flush();
}

describe('variable events', () => {
  it('reach a plain subscriber once per change, with old and new values, though both nodes have the session open', async () => {
    const buckets = fx().buckets();
    const nodes = [await fx().node(buckets), await fx().node(buckets)];
    const client = await fx().client();
    const session = await client.session('ev');
    await Promise.all(nodes.map((node) => node.runtime.session('ev')));
    const events: { subject: string; event: Record<string, unknown> }[] = [];
    const subscription = nc().subscribe('tether.v1.events.>', {
      callback: (_e, msg) => events.push({ subject: msg.subject, event: msg.json() }),
    });
    await nc().flush();

    await session.defineVariable('t', 'float', 0);
    for (let i = 1; i <= 20; i++) await session.setVariable('t', i / 10, { updatedBy: `w${i}` });
    await session.setVariable('t', Number.POSITIVE_INFINITY);
    await session.lockVariable('t', 'alice');
    await session.deleteVariable('t', { updatedBy: 'alice' });
    await waitFor(() => events.length >= 23, { message: '23 events' });
    await settle();
    subscription.unsubscribe();
    for (const node of nodes) expect(await node.requestsServed()).toBeGreaterThan(0);

    expect(events).toHaveLength(23);
    expect(new Set(events.map((e) => e.subject))).toEqual(new Set(['tether.v1.events.ev.var.t']));
    const byVersion = events.map((e) => e.event).sort((a, b) => (a.version as number) - (b.version as number));
    expect(byVersion.map((e) => e.version)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(byVersion[0]).toEqual({
      sessionId: 'ev',
      name: 't',
      id: expect.any(String),
      incarnation: session.incarnation,
      type: 'float',
      newValue: 0,
      version: 1,
      updatedBy: null,
      revision: expect.any(Number),
    });
    for (let i = 1; i <= 20; i++)
      expect(byVersion[i]).toMatchObject({ oldValue: (i - 1) / 10, newValue: i / 10, updatedBy: `w${i}` });
    expect(byVersion[21]).toMatchObject({ oldValue: 2, newValue: 'Infinity' });
    expect(byVersion[22]).toMatchObject({ oldValue: 'Infinity', deleted: true, version: 23 });
    expect(byVersion[22]).not.toHaveProperty('newValue');
  });

  it('name the life of the session they belong to, as its end event does: a new life has another', async () => {
    const buckets = fx().buckets();
    const node = await fx().runtime(buckets);
    const client = await fx().client();
    const heard: { subject: string; event: { incarnation?: string; newValue?: unknown } }[] = [];
    const subscription = nc().subscribe('tether.v1.events.lives.>', {
      callback: (_e, msg) => heard.push({ subject: msg.subject, event: msg.json() }),
    });
    await nc().flush();

    const first = await client.session('lives');
    await first.defineVariable('x', 'integer', 1);
    await first.setVariable('x', 2);
    await first.delete();
    // The same id again, on the same node: a new process, a new life, whose writes come over the wire and in process.
    const second = await client.session('lives');
    await second.defineVariable('x', 'integer', 10);
    await (await node.session('lives')).setVariable('x', 11);
    await waitFor(() => heard.length >= 5, { message: 'four variable events and the end of the first life' });
    await settle();
    subscription.unsubscribe();

    const ended = heard.filter((h) => h.subject === 'tether.v1.events.lives.session').map((h) => h.event);
    const changes = heard.filter((h) => h.subject === 'tether.v1.events.lives.var.x').map((h) => h.event);
    expect(ended).toEqual([{ sessionId: 'lives', incarnation: first.incarnation, reason: 'deleted' }]);
    expect(first.incarnation).toEqual(expect.any(String));
    expect(second.incarnation).toEqual(expect.any(String));
    expect(second.incarnation).not.toBe(first.incarnation);
    expect(changes.map((e) => [e.newValue, e.incarnation])).toEqual([
      [1, first.incarnation],
      [2, first.incarnation],
      [10, second.incarnation],
      [11, second.incarnation],
    ]);
  });

  it('feed a remote watchVariables: initial values first, then each change once, in version order', async () => {
    const buckets = fx().buckets();
    await fx().node(buckets);
    await fx().node(buckets);
    const writer = await fx().client();
    const watcher = await fx().client();
    const session = await writer.session('watch');
    await session.defineVariable('a', 'integer', 1);
    await session.defineVariable('b', 'float', Number.NaN);
    await session.defineVariable('other', 'integer', 0);
    const seen: VariableChange[] = [];
    const unwatch = await (
      await watcher.session('watch')
    ).watchVariables(
      '*',
      (change) => {
        if (change.name !== 'other') seen.push(change);
      },
      { includeInitial: true },
    );
    expect(seen.map((c) => [c.name, c.version])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(seen[1]?.newValue).toBeNaN();
    for (let i = 2; i <= 10; i++) await session.setVariable('a', i);
    await session.deleteVariable('b');
    await waitFor(() => seen.length >= 12, { message: 'ten changes after the initial two' });
    await settle();
    unwatch();
    expect(seen).toHaveLength(12);
    expect(seen.slice(2, 11).map((c) => [c.oldValue, c.newValue, c.version])).toEqual(
      Array.from({ length: 9 }, (_, i) => [i + 1, i + 2, i + 2]),
    );
    expect(seen[11]).toMatchObject({ name: 'b', deleted: true, newValue: undefined });
    expect(seen[11]?.oldValue).toBeNaN();
  });

  it("name the old value's type when an import with replace changed it; a remote watch reads it so", async () => {
    await fx().node(fx().buckets());
    const session = await (await fx().client()).session('retyped');
    await session.defineVariable('v', 'float', Number.NaN);
    const events: Record<string, unknown>[] = [];
    const subscription = nc().subscribe('tether.v1.events.retyped.var.v', {
      callback: (_e, msg) => events.push(msg.json()),
    });
    await nc().flush();
    const seen: VariableChange[] = [];
    const unwatch = await (await (await fx().client()).session('retyped')).watchVariables('v', (c) => seen.push(c));
    // The float NaN travels as the string "NaN": read by the new type, it would be that string.
    await session.importVariables([{ name: 'v', type: 'string', value: 'NaN' }], { replace: true });
    await session.setVariable('v', 'text');
    await waitFor(() => events.length === 2 && seen.length === 2, { message: 'both changes, raw and watched' });
    subscription.unsubscribe();
    unwatch();
    expect(events[0]).toMatchObject({ type: 'string', oldType: 'float', oldValue: 'NaN', newValue: 'NaN', version: 2 });
    // Of the same type before and after: no oldType.
    expect(events[1]).toMatchObject({ type: 'string', oldValue: 'NaN', newValue: 'text', version: 3 });
    expect(events[1]).not.toHaveProperty('oldType');
    expect(seen[0]?.oldValue).toBeNaN();
    expect(seen[0]?.newValue).toBe('NaN');
    expect(seen[1]?.oldValue).toBe('NaN');
  });

  it('reach the writing client before its write resolves, and a watch opened after it never', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const session = await client.session('ordered');
    await session.defineVariable('t', 'integer', 0);
    const seen: number[] = [];
    const unwatch = await session.watchVariables('t', (change) => seen.push(change.newValue as number));
    for (let i = 1; i <= 5; i++) {
      await session.setVariable('t', i);
      // No wait: the node sent the event in the same write as the reply, ahead of it.
      expect(seen.at(-1)).toBe(i);
    }
    unwatch();
    // A watch opened once the write resolved: the write's event had left before the reply.
    await session.setVariable('t', 6);
    const late: number[] = [];
    const unwatchLate = await session.watchVariables('t', (change) => late.push(change.newValue as number));
    await settle();
    unwatchLate();
    expect(late).toEqual([]);
  });
});
