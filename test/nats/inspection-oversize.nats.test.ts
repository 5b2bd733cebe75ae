import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Runtime, type InspectedSnapshot } from '../../src/index.js';
import { INSPECTED_FIELD_LIMIT } from '../../src/nats/inspection.js';
import { recordLimitFor } from '../../src/nats/record-codec.js';
import { useNatsFixture, usePlainConnection } from '../support/nats-fixture.js';
import { waitFor } from '../support/wait-for.js';

// A small max_payload: three values the store accepts make a session whose snapshot does not fit one message.
const fx = useNatsFixture({ maxPayload: 64 * 1024 });
const nc = usePlainConnection(fx);

/**
 * A node publishing its snapshots, whose reports `errors` collects, and what a plain subscriber receives of session
 * `sessionId`'s snapshots; both end with the test.
 */
async function inspectedNode(sessionId: string) {
  const errors: unknown[] = [];
  const node = await Runtime.start({
    onError: (error) => errors.push(error),
    nats: { servers: fx().server.url, ...fx().buckets(), name: 'inspected-node', inspect: true },
  });
  onTestFinished(() => node.stop());
  const seen: InspectedSnapshot[] = [];
  const subscription = nc().subscribe(`tether.v1.inspect.${sessionId}.session`, {
    callback: (_error, msg) => seen.push(msg.json<InspectedSnapshot>()),
  });
  onTestFinished(() => subscription.unsubscribe());
  await nc().flush();
  return { node, seen, errors };
}

describe('inspection of a snapshot over max_payload', () => {
  it('publishes it with its large fields replaced, small ones kept, and reports nothing', async () => {
    const { node, seen, errors } = await inspectedNode('big');
    const large = 'x'.repeat(Math.floor(recordLimitFor(nc().info!.max_payload) * 0.9));
    const session = await node.session('big');
    await session.defineVariable('small', 'integer', 1);
    await session.defineVariable('first', 'string', large);
    await session.defineVariable('second', 'string', large);
    await session.defineVariable('third', 'string', large);
    // From here on the session's snapshots are over max_payload: none of them may be encoded whole (on a node
    // with large values, that made every transition cost the whole context), only what is published.
    const max = nc().info!.max_payload;
    const stringify = JSON.stringify;
    let overMax = 0;
    const spy = vi.spyOn(JSON, 'stringify').mockImplementation((...args: Parameters<typeof stringify>) => {
      const json = stringify(...args);
      if (json !== undefined && json.length > max) overMax += 1;
      return json;
    });
    try {
      await session.setVariable('small', 2);
    } finally {
      spy.mockRestore();
    }
    expect(overMax).toBe(0);

    const done = (s: InspectedSnapshot) =>
      (s.context as { variables?: { small?: { value?: unknown } } }).variables?.small?.value === 2 &&
      (s.value as { active?: string }).active === 'idle';
    await waitFor(() => seen.some(done), { message: 'the snapshot after the last write' });
    const last = seen.find(done)!;
    expect(last.truncated).toBe(true);
    expect(last.status).toBe('active');
    const variables = (last.context as { variables: Record<string, unknown> }).variables;
    expect(variables.small).toMatchObject({ value: 2, version: 2 });
    for (const name of ['first', 'second', 'third']) {
      expect(variables[name]).toEqual({ omitted: true, bytes: expect.any(Number) });
      expect((variables[name] as { bytes: number }).bytes).toBeGreaterThan(INSPECTED_FIELD_LIMIT);
    }
    // Snapshots that fit are untouched.
    expect(seen[0]!.truncated).toBeUndefined();
    expect(errors).toEqual([]);
  });

  // Found by a review: a session of many small variables stayed over max_payload truncated, and from then on none of
  // its transitions reached a watcher, each reported to onError instead.
  it('keeps a small variable named __proto__ in a truncated snapshot, as any small one (found in review)', async () => {
    const { node, seen } = await inspectedNode('proto');
    const large = 'x'.repeat(Math.floor(recordLimitFor(nc().info!.max_payload) * 0.9));
    const session = await node.session('proto');
    await session.defineVariable('__proto__', 'integer', 1);
    await session.defineVariable('small', 'integer', 1);
    await session.defineVariable('first', 'string', large);
    await session.defineVariable('second', 'string', large);
    await session.defineVariable('third', 'string', large);
    await session.setVariables({ small: 2, ['__proto__']: 2 } as Record<string, unknown>, { atomic: true });
    // The session holds both, embedded.
    expect((await session.getVariables(['__proto__', 'small'])).found).toEqual(
      Object.fromEntries([
        ['__proto__', 2],
        ['small', 2],
      ]),
    );

    const done = (s: InspectedSnapshot) =>
      (s.context as { variables?: { small?: { value?: unknown } } }).variables?.small?.value === 2 &&
      (s.value as { active?: string }).active === 'idle';
    await waitFor(() => seen.some(done), { message: 'the snapshot after the batch' });
    // Control: while the snapshots fit, the variable is in them.
    expect(
      seen.some(
        (s) =>
          s.truncated === undefined &&
          Object.hasOwn((s.context as { variables?: object }).variables ?? {}, '__proto__'),
      ),
    ).toBe(true);
    const last = seen.find(done)!;
    expect(last.truncated).toBe(true);
    const variables = (last.context as { variables: Record<string, unknown> }).variables;
    expect(variables.small).toMatchObject({ value: 2, version: 2 });
    expect(Object.keys(variables)).toContain('__proto__');
    expect(Object.hasOwn(variables, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(variables, '__proto__')?.value).toMatchObject({ value: 2, version: 2 });
  });

  it('publishes a snapshot still too large truncated with its context omitted whole and its event as its type', async () => {
    const { node, seen, errors } = await inspectedNode('many');
    const session = await node.session('many');
    const small = 'y'.repeat(170);
    await session.importVariables(
      Array.from({ length: 400 }, (_, index) => ({ name: `v${index}`, type: 'string', value: small })),
    );
    await session.setVariable('v0', 'last');
    // Back to idle after the import, then after the write (the idle of the load before came whole).
    const idleTruncated = () =>
      seen.filter((s) => s.truncated === true && (s.value as { active?: string }).active === 'idle');
    await waitFor(() => idleTruncated().length >= 2, { message: 'the snapshots after the import and the last write' });
    const last = idleTruncated()[1]!;
    expect(last).toMatchObject({
      truncated: true,
      status: 'active',
      value: { active: 'idle' },
      event: { type: expect.any(String) },
      context: { omitted: true, bytes: expect.any(Number) },
    });
    expect((last.context as unknown as { bytes: number }).bytes).toBeGreaterThan(nc().info!.max_payload);
    // Every transition reached the watcher; nothing was reported.
    expect(errors).toEqual([]);
  });

  it("publishes a crash's snapshot whose error is over max_payload with the start of its message", async () => {
    const { node, seen, errors } = await inspectedNode('crashing');
    await (await node.session('crashing')).defineVariable('t', 'float', 0.5);
    // Changes whose reading throws an error of 100 KB: the session process crashes with it.
    const huge = 'x'.repeat(100_000);
    const changes = {
      [Symbol.iterator]() {
        throw new Error(huge);
      },
    };
    node.cast('tether.session.crashing', { type: 'store.changed', changes } as never);
    await waitFor(() => seen.some((s) => s.status === 'error'), { message: 'the crash snapshot' });
    const crash = seen.find((s) => s.status === 'error')!;
    expect(crash).toMatchObject({ truncated: true, event: { type: 'xstate.error' } });
    expect(crash.error).toMatchObject({ code: 'internal_error', message: huge.slice(0, INSPECTED_FIELD_LIMIT) });
    // Only the crash itself was reported: the snapshot of it was published.
    expect(errors).toHaveLength(1);
  });
});
