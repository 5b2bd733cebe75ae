/**
 * Invariants on what the writes' replies claimed, checked against the final records and histories: the counter
 * counts its increments, no two resolved writes of one definition claim one version, a compare-and-set wrote the
 * version after the one it expected, and each claimed version still kept holds the value its write wrote.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { VariableHistoryEntry } from '../../../src/session/variable-history.js';
import type { VariableRecord } from '../../../src/variables/types.js';
import type { Claim, Ledger } from './ledger.js';
import { COUNTER, DEFINITIONS, SCRATCH } from './variables.js';

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** What the run ended with, as every viewpoint agrees on it: each variable's record and kept history. */
export interface FinalState {
  readonly records: ReadonlyMap<string, VariableRecord>;
  readonly histories: ReadonlyMap<string, readonly VariableHistoryEntry[]>;
}

/** The violations of the write invariants. */
export function checkWrites(ledger: Ledger, final: FinalState): string[] {
  const violations: string[] = [];
  const counter = final.records.get(COUNTER);
  const start = DEFINITIONS.count.value as number;
  const resolved = ledger.increments.length;
  // 1. Every resolved increment counted once, each on the value the one before it left.
  if (counter?.value !== start + resolved || counter.version !== 1 + resolved)
    violations.push(
      `counter: ${resolved} increments resolved from ${start} (version 1), ended ${show(counter?.value)} at version ${counter?.version}`,
    );
  const sorted = [...ledger.increments].sort((a, b) => a - b);
  const firstOff = sorted.findIndex((value, i) => value !== start + i + 1);
  if (firstOff >= 0)
    violations.push(`counter: increments resolved to ${show(sorted.slice(Math.max(0, firstOff - 2), firstOff + 3))}…`);

  // 4 (and more). No two resolved writes of one definition claim one version; the scratch variable's batch
  // outcomes name no definition, so only the claims that name one are compared there.
  const byVersion = new Map<string, Claim>();
  for (const claim of ledger.claims) {
    if (claim.name === SCRATCH && claim.id === undefined) continue;
    const key = `${claim.name}@${claim.name === SCRATCH ? claim.id : ''}#${claim.version}`;
    const other = byVersion.get(key);
    if (other)
      violations.push(
        `'${claim.name}' version ${claim.version} claimed twice: ${other.worker} ${other.call} and ${claim.worker} ${claim.call}`,
      );
    else byVersion.set(key, claim);
    if (claim.expectedVersion !== undefined && claim.version !== claim.expectedVersion + 1)
      violations.push(
        `${claim.worker} ${claim.call}: expected version ${claim.expectedVersion}, wrote ${claim.version}`,
      );
  }

  // Each claimed version of the final definition that the history still keeps holds the value written then.
  for (const claim of ledger.claims) {
    const record = final.records.get(claim.name);
    if (!record || (claim.id ?? (claim.name === SCRATCH ? undefined : record.id)) !== record.id) continue;
    const entry = final.histories.get(claim.name)?.find((kept) => kept.version === claim.version);
    if (entry && entry.updatedBy !== claim.updatedBy)
      violations.push(
        `'${claim.name}' version ${claim.version}: history names ${show(entry.updatedBy)}, ${claim.worker} ${claim.call} named ${show(claim.updatedBy)}`,
      );
    if (entry && !isDeepStrictEqual(entry.value, claim.value))
      violations.push(
        `'${claim.name}' version ${claim.version}: history holds ${show(entry.value)}, ${claim.worker} ${claim.call} wrote ${show(claim.value)}`,
      );
    if (claim.version > record.version)
      violations.push(
        `${claim.worker} ${claim.call}: claimed version ${claim.version} past the final ${record.version}`,
      );
  }
  return violations;
}
