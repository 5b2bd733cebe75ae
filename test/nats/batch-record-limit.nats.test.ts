import { describe, expect, it } from 'vitest';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

describe('a non-atomic setVariables with a value over the record size limit', () => {
  it("writes the names that fit and refuses only that one, on a node's own session and through the client", async () => {
    const node = await fx().runtime(fx().buckets());
    const client = await fx().client();
    for (const session of [await node.session('big-1'), await client.session('big-2')]) {
      await session.defineVariable('before', 'integer', 1);
      await session.defineVariable('big', 'string', 'x');
      await session.defineVariable('after', 'integer', 1);
      const outcomes = await session.setVariables({ before: 2, big: 'y'.repeat(600_000), after: 2 });
      expect(outcomes).toMatchObject({
        before: { ok: true },
        big: { ok: false, error: { code: 'validation_failed', details: { variable: 'big' } } },
        after: { ok: true },
      });
      expect((await session.getVariables(['before', 'big', 'after'])).found).toEqual({ before: 2, big: 'x', after: 2 });
      // Atomic, the same batch is refused whole, and writes nothing.
      await expect(
        session.setVariables({ before: 3, big: 'y'.repeat(600_000), after: 3 }, { atomic: true }),
      ).rejects.toMatchObject({ code: 'validation_failed' });
      expect((await session.getVariables(['before', 'after'])).found).toEqual({ before: 2, after: 2 });
    }
  }, 60_000);
});
