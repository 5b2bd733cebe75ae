/**
 * Invariants on what each watch heard. Per variable, a watch's changes run in definitions, each ended by a `deleted`
 * change. What is promised (README, "the wire protocol"; `VariableChange.gap`): a change not marked `gap` is the next
 * one, its version one past the change before it in its definition (1 for a definition's first) and its `oldValue`
 * that change's `newValue`; a change marked `gap` may skip versions, never go back. So versions only rise within a
 * definition, none twice; a change that skips is marked; the last change heard is the final record (or its delete);
 * every value heard is valid for its variable, and each change is frozen. A watch started late with `includeInitial`
 * hears each variable's current value first, at whatever version, with no old value.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { VariableChange } from '../../../src/session/session-context.js';
import type { Claim } from './ledger.js';
import { validFor } from './variables.js';
import type { FinalState } from './write-checks.js';

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** What checking one watch found: its violations, and the changes it heard marked `gap` (allowed, listed). */
export interface WatchCheck {
  readonly violations: string[];
  readonly gaps: string[];
}

/**
 * Checks the changes watch `where` heard against the final state and the values the resolved writes claimed (by
 * variable and version, for the variables never deleted).
 */
export function checkWatch(
  where: string,
  changes: readonly VariableChange[],
  final: FinalState,
  claims: readonly Claim[],
  late: boolean,
): WatchCheck {
  const violations: string[] = [];
  const gaps: string[] = [];
  const last = new Map<string, VariableChange>();
  const claimed = new Map(claims.filter((c) => c.name !== 'tmp').map((c) => [`${c.name}#${c.version}`, c]));
  changes.forEach((change, index) => {
    const at = `${where} change ${index} ('${change.name}' v${change.version}${change.deleted ? ' deleted' : ''}${change.gap ? ' gap' : ''})`;
    if (!Object.isFrozen(change)) violations.push(`${at}: not frozen`);
    if (!change.deleted && !validFor(change.name, change.newValue))
      violations.push(`${at}: invalid value ${show(change.newValue)}`);
    if (change.gap) gaps.push(`'${change.name}' v${change.version}${change.deleted ? ' deleted' : ''}`);
    const before = last.get(change.name);
    // The previous change of this definition; none after a delete, so the next change is a definition's first.
    const previous = before?.deleted ? undefined : before;
    const expectedVersion = (previous?.version ?? 0) + 1;
    if (late && !before) {
      // A late watch's first change of a variable is its current value (`includeInitial`) or, for one that did not
      // exist then, its definition: at any version, with no old value, so that the changes after it apply to it.
      if (change.oldValue !== undefined)
        violations.push(`${at}: the first heard has oldValue ${show(change.oldValue)}`);
    } else if (change.gap) {
      if (change.version < expectedVersion)
        violations.push(`${at}: a gap back from version ${previous?.version} of the same definition`);
    } else if (change.version !== expectedVersion) {
      violations.push(
        `${at}: follows ${previous ? `version ${previous.version}` : 'no change of its definition'} unmarked (${show(change)} after ${show(previous)})`,
      );
    } else if (!isDeepStrictEqual(change.oldValue, previous?.newValue)) {
      violations.push(
        `${at}: oldValue ${show(change.oldValue)} where the change before had ${show(previous?.newValue)}`,
      );
    }
    const claim = claimed.get(`${change.name}#${change.version}`);
    if (!change.deleted && claim && !isDeepStrictEqual(change.newValue, claim.value))
      violations.push(
        `${at}: heard ${show(change.newValue)}, ${claim.worker} ${claim.call} wrote ${show(claim.value)}`,
      );
    if (!change.deleted && claim && change.updatedBy !== claim.updatedBy)
      violations.push(
        `${at}: heard updatedBy ${show(change.updatedBy)}, ${claim.worker} ${claim.call} named ${show(claim.updatedBy)}`,
      );
    last.set(change.name, change);
  });
  for (const name of new Set([...final.records.keys(), ...last.keys()])) {
    const record = final.records.get(name);
    const heard = last.get(name);
    if (record && (!heard || heard.deleted || heard.version !== record.version))
      violations.push(
        `${where}: last heard of '${name}' ${describe(heard)}, the final record is at version ${record.version}`,
      );
    else if (record && !isDeepStrictEqual(heard?.newValue, record.value))
      violations.push(
        `${where}: last heard '${name}' = ${show(heard?.newValue)}, the final record has ${show(record.value)}`,
      );
    else if (!record && heard && !heard.deleted)
      violations.push(`${where}: last heard of '${name}' ${describe(heard)}, which no longer exists`);
  }
  return { violations, gaps };
}

function describe(change: VariableChange | undefined): string {
  if (!change) return 'nothing';
  return `version ${change.version}${change.deleted ? ' (deleted)' : ''}`;
}
