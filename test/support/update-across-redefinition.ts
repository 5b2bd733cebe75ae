/**
 * One scenario run against an embedded and a remote session alike: `updateVariable` whose variable is deleted and
 * defined again while its function runs, then a `setVariable` conditioned on the old variable's id.
 * @module
 */
import { expect } from 'vitest';
import { VersionConflictError } from '../../src/errors.js';
import type { VariableRecord } from '../../src/variables/types.js';
import { waitFor } from './wait-for.js';

/** What the scenario uses of a session handle, embedded or remote. */
interface RedefinableSession {
  defineVariable(name: string, type: 'integer', value: number): Promise<VariableRecord>;
  deleteVariable(name: string): Promise<unknown>;
  updateVariable(name: string, fn: (value: unknown) => unknown): Promise<VariableRecord>;
  setVariable(
    name: string,
    value: unknown,
    options: { expectedVersion?: number; expectedId?: string },
  ): Promise<VariableRecord>;
}

/**
 * Asserts that the update applies its function again to the new variable (never writes the old one's result into
 * it) and that a write expecting the old id is a `VersionConflictError` naming both ids. Returns both records.
 */
export async function expectUpdateAcrossRedefinition(
  session: RedefinableSession,
): Promise<{ old: VariableRecord; renewed: VariableRecord }> {
  const old = await session.defineVariable('counter', 'integer', 100);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const seen: unknown[] = [];
  const update = session.updateVariable('counter', async (v) => {
    seen.push(v);
    await gate;
    return (v as number) + 1;
  });
  await waitFor(() => seen.length === 1);
  await session.deleteVariable('counter');
  const renewed = await session.defineVariable('counter', 'integer', 0);
  open();
  // Its versions start again at 1, so the version alone would have let 101 into the new variable.
  expect(await update).toMatchObject({ id: renewed.id, value: 1, version: 2 });
  expect(seen).toEqual([100, 0]);

  const stale = await session
    .setVariable('counter', 7, { expectedVersion: 2, expectedId: old.id })
    .catch((error: unknown) => error);
  expect(stale).toBeInstanceOf(VersionConflictError);
  expect(stale).toMatchObject({
    message:
      `variable 'counter' has id ${renewed.id}, not the id expected, ${old.id} (it was defined again since, or that ` +
      `id was never this variable's); it is at version 2`,
    details: { expectedId: old.id, actualId: renewed.id },
  });
  return { old, renewed };
}
