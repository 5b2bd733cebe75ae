/**
 * Variable records for unit tests of the watch and history code: an integer variable at a given version, with
 * timestamps that increase with the version.
 * @module
 */
import type { VariableRecord } from '../../src/variables/types.js';

/** The timestamp of version `version` (one second apart). */
export const versionTime = (version: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString();

/** Integer variable `name` at `version`, holding `value`; `id` tells a re-defined variable from the first. */
export function integerRecord(name: string, version: number, value: unknown, id = `${name}-1`): VariableRecord {
  return {
    id,
    name,
    type: 'integer',
    value,
    constraints: {},
    description: '',
    metadata: {},
    version,
    createdAt: versionTime(1),
    updatedAt: versionTime(version),
    updatedBy: null,
    reason: null,
    lockedBy: null,
  };
}
