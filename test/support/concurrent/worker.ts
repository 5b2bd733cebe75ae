/**
 * One worker of the concurrency fuzzer, and what its calls share: the codes a call may be refused with, who a write
 * names, and the record of each resolved write's claim and of what the handle has seen (read-your-writes).
 * @module
 */
import type { SessionApi } from '../../../src/session/session-api.js';
import type { VariableRecord } from '../../../src/variables/types.js';
import type { FuzzRandom } from '../wire-fuzz/random.js';
import type { Ledger } from './ledger.js';
import { SCRATCH } from './variables.js';

/** One worker: its name (also its lock owner and writer name), handle and random source. */
export interface Worker {
  readonly name: string;
  readonly session: SessionApi;
  readonly random: FuzzRandom;
  readonly ledger: Ledger;
  /** Whether it holds the lock of `s`. */
  holding: boolean;
  /** The last record it read of each variable, for compare-and-sets on a version others may have moved past. */
  readonly seen: Map<string, VariableRecord>;
  /** The newest version of each variable (of the definition of that id) this handle has read or written. */
  readonly known: Map<string, { readonly id: string | undefined; readonly version: number }>;
  /** The variable most of its writes go to, for seeds that press on one key. */
  readonly hot: string | undefined;
}

/** A variable to write: the run's hot one mostly, when it has one. */
export function someName(w: Worker, names: readonly string[]): string {
  return w.hot !== undefined && names.includes(w.hot) && w.random.chance(0.7) ? w.hot : w.random.pick(names);
}

/** A value as a failure prints it. */
export const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** Codes a write of `name` may be refused with, whatever its value: a lock on `s`, the scratch variable gone. */
export function stateCodes(worker: Worker, name: string): string[] {
  const codes: string[] = [];
  if (name === 's' && !worker.holding) codes.push('variable_locked');
  if (name === SCRATCH) codes.push('variable_not_found');
  return codes;
}

/** The code a read of `name` may be refused with: only the scratch variable may be gone. */
export const missing = (name: string): string[] => (name === SCRATCH ? ['variable_not_found'] : []);

/** Who a write names: the lock owner always when it writes `s` holding its lock, else now and then. */
export function writer(worker: Worker, names: readonly string[]): { updatedBy?: string } {
  if (worker.holding && names.includes('s')) return { updatedBy: worker.name };
  return worker.random.chance(0.5) ? { updatedBy: worker.name } : {};
}

/** A write of an invalid value that resolved, or of a valid one refused as invalid, is a violation. */
export function checkValidity(
  worker: Worker,
  label: string,
  valid: boolean,
  outcome: { ok: boolean; code?: string },
): void {
  if (valid && !outcome.ok && outcome.code === 'validation_failed')
    worker.ledger.violations.push(`${worker.name} ${label}: a valid value refused as invalid`);
  if (!valid && outcome.ok) worker.ledger.violations.push(`${worker.name} ${label}: an invalid value accepted`);
}

/**
 * Read-your-writes and monotonic reads, per handle (README, "Read-your-writes": a client always reads its own
 * writes whichever node answers; a node's own handles read the session's one view): what a call answers of a
 * variable is never older than what this handle had read or written of the same definition before it, and a write
 * lands past it. The scratch variable's batch outcomes name no definition and are not compared.
 */
export function observe(
  w: Worker,
  label: string,
  name: string,
  id: string | undefined,
  version: number,
  wrote: boolean,
): void {
  if (name === SCRATCH && id === undefined) return;
  const before = w.known.get(name);
  const same = before !== undefined && (name !== SCRATCH || before.id === id);
  if (same && (wrote ? version <= before.version : version < before.version))
    w.ledger.violations.push(
      `${w.name} ${label}: ${wrote ? 'wrote' : 'read'} '${name}' at version ${version}, after this handle had version ${before.version}`,
    );
  if (!same || version > before.version) w.known.set(name, { id: id ?? before?.id, version });
}

/** Claims the version `record` names, written by a call that named `updatedBy` (which the record must name too). */
export function claimRecord(
  worker: Worker,
  call: string,
  record: VariableRecord,
  updatedBy: string | undefined,
  expectedVersion?: number,
): void {
  if (record.updatedBy !== (updatedBy ?? null))
    worker.ledger.violations.push(`${worker.name} ${call}: answered updatedBy ${show(record.updatedBy)}`);
  observe(
    worker,
    call,
    record.name,
    record.id,
    record.version,
    !call.startsWith('lockVariable') && !call.startsWith('unlockVariable'),
  );
  worker.ledger.claim({
    worker: worker.name,
    call,
    name: record.name,
    id: record.id,
    version: record.version,
    value: record.value,
    updatedBy: updatedBy ?? null,
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  });
}
