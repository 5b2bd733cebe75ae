/**
 * A write takes the value it was called with: a value object the caller reuses and changes right after the call (as
 * `execute` inputs may be reused) must neither change what is written nor get the write refused for a value the
 * caller never passed. A write queued behind another one is planned only when its turn comes, so the value is copied
 * at the call (src/variables/value-as-called.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Session } from '../../src/index.js';
import { useEmbeddedSession } from '../support/embedded-session.js';

describe('a write takes its value as it was at the call', () => {
  let session: Session;
  useEmbeddedSession((_, s) => (session = s));

  it('writes the value passed to setVariable, not what the caller changed it to after the call', async () => {
    await session.defineVariable('busy', 'integer', 0);
    await session.defineVariable('cfg', 'json', { retries: 0 });
    const cfg = { retries: 2 };
    const first = session.setVariable('busy', 1); // keeps the session busy, so the next write is queued
    const second = session.setVariable('cfg', cfg);
    cfg.retries = 99; // the caller reuses its object for the next request
    await first;
    expect((await second).value).toEqual({ retries: 2 });
    expect(await session.getVariable('cfg')).toEqual({ retries: 2 });
  });

  it('does not refuse a valid value because the caller changed its object after the call', async () => {
    await session.defineVariable('busy', 'integer', 0);
    await session.defineVariable(
      'cfg',
      'json',
      { retries: 0 },
      {
        constraints: { shape: { properties: { retries: { type: 'integer' } } } },
      },
    );
    const cfg: { retries: unknown } = { retries: 2 };
    const first = session.setVariable('busy', 1);
    const second = session.setVariable('cfg', cfg).then(
      (record) => record.value,
      (error: unknown) => error,
    );
    cfg.retries = 'later';
    await first;
    // The call was given { retries: 2 }: it must be written, not refused with "$.retries must be of type integer".
    expect(await second).toEqual({ retries: 2 });
  });

  it('writes an embedding given as a typed array with the elements it had at the call', async () => {
    await session.defineVariable('busy', 'integer', 0);
    await session.defineVariable('query', 'embedding', [0, 0], { constraints: { dimensions: 2 } });
    const vector = new Float32Array([0.5, 0.25]);
    const first = session.setVariable('busy', 1);
    const second = session.setVariable('query', vector);
    vector[0] = 1;
    await first;
    await second;
    expect(await session.getVariable('query')).toEqual([0.5, 0.25]);
  });

  it('applies a setVariables batch as it was at the call', async () => {
    await session.defineVariable('busy', 'integer', 0);
    await session.defineVariable('tags', 'list', ['a']);
    const tags = ['b'];
    const first = session.setVariable('busy', 1);
    const batch = session.setVariables({ tags }, { atomic: true });
    tags.push('c');
    await first;
    await batch;
    expect(await session.getVariable('tags')).toEqual(['b']);
  });

  it('imports the records it was given, not records the caller added to its array after the call', async () => {
    await session.defineVariable('busy', 'integer', 0);
    const records: unknown[] = [{ name: 'a', type: 'integer', value: 1 }];
    const first = session.setVariable('busy', 1);
    const imported = session.importVariables(records);
    records.push({ name: 'b', type: 'integer', value: 2 });
    await first;
    expect(await imported).toBe(1);
    expect(await session.hasVariable('b')).toBe(false);
  });
});
