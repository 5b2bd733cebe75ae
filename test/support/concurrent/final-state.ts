/**
 * The end of a concurrency run: waits (by polling, bounded) until every viewpoint describes the same records and its
 * watch heard up to them, then reads the final state and checks that every viewpoint shows it alike: the same
 * records (value, version, id, lock, attribution) and the same kept history of each variable, an unbroken run of
 * versions whose last entry is the record.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { VariableChange } from '../../../src/session/session-context.js';
import { historyEntryOf, type VariableHistoryEntry } from '../../../src/session/variable-history.js';
import type { VariableRecord } from '../../../src/variables/types.js';
import type { Viewpoint } from './cluster.js';
import { NAMES, validFor } from './variables.js';
import type { FinalState } from './write-checks.js';

/** How long the viewpoints may take to agree once the workers are done; only a failure waits it out. */
const CATCH_UP_MS = 20_000;

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** Whether both of a viewpoint's watches last heard of each variable what `records` hold (or its delete). */
function heardUpTo(viewpoint: Viewpoint, records: readonly VariableRecord[]): boolean {
  return heard(viewpoint.changes, records) && heard(viewpoint.late, records);
}

function heard(changes: readonly VariableChange[], records: readonly VariableRecord[]): boolean {
  const last = new Map(changes.map((change) => [change.name, change]));
  const byName = new Map(records.map((record) => [record.name, record]));
  for (const name of new Set([...last.keys(), ...byName.keys()])) {
    const heard = last.get(name);
    const record = byName.get(name);
    if (record ? heard?.version !== record.version || heard.deleted : heard && !heard.deleted) return false;
  }
  return true;
}

/**
 * Waits until the viewpoints agree, then returns the final state as the first one shows it, with the violations of
 * the agreement (what still differed when the wait ran out, or histories that differ or are broken).
 */
export async function settle(viewpoints: readonly Viewpoint[]): Promise<{ final: FinalState; violations: string[] }> {
  const violations: string[] = [];
  const deadline = Date.now() + CATCH_UP_MS;
  let lists: VariableRecord[][] = [];
  for (;;) {
    lists = await Promise.all(viewpoints.map((viewpoint) => viewpoint.session.listVariables()));
    const agreed = lists.every((list) => isDeepStrictEqual(list, lists[0]));
    if (agreed && viewpoints.every((viewpoint) => heardUpTo(viewpoint, lists[0]!))) break;
    if (Date.now() > deadline) {
      viewpoints.forEach((viewpoint, i) => {
        if (!isDeepStrictEqual(lists[i], lists[0]))
          violations.push(`${viewpoint.name} describes ${show(lists[i])}, ${viewpoints[0]!.name} ${show(lists[0])}`);
        if (!heardUpTo(viewpoint, lists[0]!)) violations.push(`${viewpoint.name}'s watch did not hear up to the end`);
      });
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const records = new Map(lists[0]!.map((record) => [record.name, record]));
  const histories = new Map<string, VariableHistoryEntry[]>();
  for (const name of NAMES) {
    const record = records.get(name);
    if (!record) continue;
    const seen = await Promise.all(viewpoints.map((viewpoint) => viewpoint.session.variableHistory(name)));
    const history = seen[0]!;
    histories.set(name, history);
    seen.forEach((other, i) => {
      if (!isDeepStrictEqual(other, history))
        violations.push(
          `history of '${name}': ${viewpoints[i]!.name} has ${show(other)}, ${viewpoints[0]!.name} ${show(history)}`,
        );
    });
    violations.push(...historyViolations(name, history, record));
  }
  return { final: { records, histories }, violations };
}

/** An unbroken run of versions, valid values, its last entry the record. */
function historyViolations(name: string, history: readonly VariableHistoryEntry[], record: VariableRecord): string[] {
  const violations: string[] = [];
  history.forEach((entry, i) => {
    const before = history[i - 1];
    if (before && entry.version !== before.version + 1)
      violations.push(`history of '${name}': version ${entry.version} follows ${before.version}`);
    if (!validFor(name, entry.value)) violations.push(`history of '${name}' v${entry.version}: ${show(entry.value)}`);
  });
  const lastEntry = history.at(-1);
  const fromRecord = historyEntryOf(record);
  if (!isDeepStrictEqual(lastEntry, fromRecord))
    violations.push(`history of '${name}' ends with ${show(lastEntry)}, the record is ${show(fromRecord)}`);
  return violations;
}
