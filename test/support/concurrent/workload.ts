/**
 * The concurrency fuzzer's workers: each a seeded sequence of Session calls on its own handle, run concurrently with
 * the others. Every call is recorded in the ledger with the codes it may be refused with while others write; every
 * resolved write claims the version its reply names; what a read returns must be valid for its variable.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { SessionApi } from '../../../src/session/session-api.js';
import type { VariableRecord } from '../../../src/variables/types.js';
import { createRandom, type FuzzRandom } from '../wire-fuzz/random.js';
import type { Ledger } from './ledger.js';
import {
  COUNTER,
  DEFINITIONS,
  NAMES,
  SCRATCH,
  WRITTEN,
  asStored,
  drawValue,
  updateFor,
  validFor,
} from './variables.js';

/** One worker: its name (also its lock owner and writer name), handle and random source. */
interface Worker {
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
function someName(w: Worker, names: readonly string[]): string {
  return w.hot !== undefined && names.includes(w.hot) && w.random.chance(0.7) ? w.hot : w.random.pick(names);
}

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** Codes a write of `name` may be refused with, whatever its value: a lock on `s`, the scratch variable gone. */
function stateCodes(worker: Worker, name: string): string[] {
  const codes: string[] = [];
  if (name === 's' && !worker.holding) codes.push('variable_locked');
  if (name === SCRATCH) codes.push('variable_not_found');
  return codes;
}

/** The code a read of `name` may be refused with: only the scratch variable may be gone. */
const missing = (name: string): string[] => (name === SCRATCH ? ['variable_not_found'] : []);

/** Who a write names: the lock owner always when it writes `s` holding its lock, else now and then. */
function writer(worker: Worker, names: readonly string[]): { updatedBy?: string } {
  if (worker.holding && names.includes('s')) return { updatedBy: worker.name };
  return worker.random.chance(0.5) ? { updatedBy: worker.name } : {};
}

/** A write of an invalid value that resolved, or of a valid one refused as invalid, is a violation. */
function checkValidity(worker: Worker, label: string, valid: boolean, outcome: { ok: boolean; code?: string }): void {
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
function observe(
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
function claimRecord(
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

const increment = async (w: Worker): Promise<void> => {
  const label = `updateVariable('${COUNTER}', +1)`;
  const outcome = await w.ledger.record(w.name, label, [], () => w.session.updateVariable(COUNTER, updateFor(COUNTER)));
  if (!outcome.ok) return;
  w.ledger.increments.push(outcome.value.value as number);
  claimRecord(w, label, outcome.value, undefined);
};

const update = async (w: Worker): Promise<void> => {
  const name = someName(w, [...WRITTEN, SCRATCH]);
  const options = writer(w, [name]);
  const label = `updateVariable('${name}', ${show(options)})`;
  const outcome = await w.ledger.record(w.name, label, stateCodes(w, name), () =>
    w.session.updateVariable(name, updateFor(name), options),
  );
  if (outcome.ok) claimRecord(w, label, outcome.value, options.updatedBy);
};

const set = async (w: Worker): Promise<void> => {
  const name = someName(w, [...WRITTEN, SCRATCH]);
  const value = drawValue(w.random, name);
  const options = writer(w, [name]);
  const label = `setVariable('${name}', ${show(value)}, ${show(options)})`;
  const valid = validFor(name, value);
  const codes = [...stateCodes(w, name), ...(valid ? [] : ['validation_failed'])];
  const outcome = await w.ledger.record(w.name, label, codes, () => w.session.setVariable(name, value, options));
  checkValidity(w, label, valid, outcome);
  if (outcome.ok) claimRecord(w, label, outcome.value, options.updatedBy);
};

const compareAndSet = async (w: Worker): Promise<void> => {
  const name = someName(w, [...WRITTEN, SCRATCH]);
  // Now and then on the record read some calls ago, which others have likely moved past.
  let record = w.random.chance(0.3) ? w.seen.get(name) : undefined;
  if (!record) {
    const read = await w.ledger.record(w.name, `describeVariable('${name}')`, missing(name), () =>
      w.session.describeVariable(name),
    );
    if (!read.ok) return;
    record = read.value;
    w.seen.set(name, record);
    observe(w, `describeVariable('${name}')`, name, record.id, record.version, false);
  }
  const value = drawValue(w.random, name);
  const withId = w.random.chance(0.5);
  const options = {
    expectedVersion: record.version,
    ...(withId ? { expectedId: record.id } : {}),
    ...writer(w, [name]),
  };
  const label = `setVariable('${name}', ${show(value)}, ${show({ ...options, expectedId: withId ? '<id>' : undefined })})`;
  const valid = validFor(name, value);
  const codes = [...stateCodes(w, name), 'version_conflict', ...(valid ? [] : ['validation_failed'])];
  const outcome = await w.ledger.record(w.name, label, codes, () => w.session.setVariable(name, value, options));
  checkValidity(w, label, valid, outcome);
  if (!outcome.ok) return;
  if (withId && outcome.value.id !== record.id)
    w.ledger.violations.push(`${w.name} ${label}: wrote variable ${outcome.value.id}, expected ${record.id}`);
  claimRecord(w, label, outcome.value, options.updatedBy, record.version);
};

const batch = async (w: Worker): Promise<void> => {
  const names = [...WRITTEN, SCRATCH].filter(() => w.random.chance(0.5));
  if (names.length === 0) names.push(w.random.pick(WRITTEN));
  const values = Object.fromEntries(names.map((name) => [name, drawValue(w.random, name)]));
  const atomic = w.random.chance(0.5);
  const options = { atomic, ...writer(w, names) };
  const label = `setVariables(${show(values)}, ${show(options)})`;
  const invalid = names.filter((name) => !validFor(name, values[name]));
  const codes = [...new Set(names.flatMap((name) => stateCodes(w, name)))];
  if (invalid.length > 0) codes.push('validation_failed');
  const outcome = await w.ledger.record(w.name, label, atomic ? codes : [], () =>
    w.session.setVariables(values, options),
  );
  if (!outcome.ok) return;
  for (const name of names) {
    const answer = outcome.value[name];
    const valid = !invalid.includes(name);
    if (!answer) {
      w.ledger.violations.push(`${w.name} ${label}: no outcome for '${name}'`);
    } else if (answer.ok) {
      if (!valid || (atomic && invalid.length > 0))
        w.ledger.violations.push(`${w.name} ${label}: '${name}' written though the batch has invalid values`);
      w.ledger.claim({
        worker: w.name,
        call: label,
        name,
        id: undefined,
        version: answer.version,
        value: asStored(values[name]),
        updatedBy: options.updatedBy ?? null,
      });
      observe(w, label, name, undefined, answer.version, true);
    } else {
      const allowed = [...stateCodes(w, name), ...(valid ? [] : ['validation_failed'])];
      if (atomic || !allowed.includes(answer.error.code))
        w.ledger.violations.push(
          `${w.name} ${label}: '${name}' answered ${answer.error.code}: ${answer.error.message}`,
        );
    }
  }
};

const rollback = async (w: Worker): Promise<void> => {
  const name = someName(w, [...WRITTEN, SCRATCH]);
  const history = await w.ledger.record(w.name, `variableHistory('${name}')`, missing(name), () =>
    w.session.variableHistory(name),
  );
  if (!history.ok || history.value.length === 0) return;
  observe(w, `variableHistory('${name}')`, name, undefined, history.value.at(-1)!.version, false);
  const entry = w.random.pick(history.value);
  const options = writer(w, [name]);
  const label = `rollbackVariable('${name}', ${entry.version}, ${show(options)})`;
  // The version may have left the kept history meanwhile, and a writer that keeps getting in first may outlast its tries.
  const codes = [...stateCodes(w, name), 'version_conflict', 'validation_failed', 'variable_not_found'];
  const outcome = await w.ledger.record(w.name, label, codes, () =>
    w.session.rollbackVariable(name, entry.version, options),
  );
  if (!outcome.ok) return;
  // The scratch variable may have been defined again since its history was read: another variable's versions.
  if (name !== SCRATCH && !isDeepStrictEqual(outcome.value.value, entry.value))
    w.ledger.violations.push(
      `${w.name} ${label}: wrote ${show(outcome.value.value)}, version held ${show(entry.value)}`,
    );
  claimRecord(w, label, outcome.value, options.updatedBy);
};

const lock = async (w: Worker): Promise<void> => {
  const call = w.holding ? 'unlockVariable' : 'lockVariable';
  const label = `${call}('s', '${w.name}')`;
  const outcome = await w.ledger.record(w.name, label, w.holding ? [] : ['variable_locked'], () =>
    w.session[call]('s', w.name),
  );
  if (!outcome.ok) return;
  const expected = w.holding ? null : w.name;
  if (outcome.value.lockedBy !== expected)
    w.ledger.violations.push(`${w.name} ${label}: answered lockedBy ${show(outcome.value.lockedBy)}`);
  observe(w, label, 's', outcome.value.id, outcome.value.version, false);
  w.holding = !w.holding;
};

const scratch = async (w: Worker): Promise<void> => {
  if (w.random.chance(0.5)) {
    await w.ledger.record(w.name, `deleteVariable('${SCRATCH}')`, ['variable_not_found'], () =>
      w.session.deleteVariable(SCRATCH, writer(w, [])),
    );
    return;
  }
  const { type, value, constraints } = DEFINITIONS[SCRATCH];
  const label = `defineVariable('${SCRATCH}')`;
  const outcome = await w.ledger.record(w.name, label, ['already_exists'], () =>
    w.session.defineVariable(SCRATCH, type, value, { constraints }),
  );
  if (outcome.ok) claimRecord(w, label, outcome.value, undefined);
};

/**
 * An export of some of the variables imported back, with `replace` mostly, each value kept or drawn anew: a write
 * of each (the scratch variable's definition if it was deleted meanwhile), all or nothing. Its answer is a count,
 * so it claims no version; the watches and histories show it.
 */
const importBack = async (w: Worker): Promise<void> => {
  const exported = await w.ledger.record(w.name, 'exportVariables()', [], () => w.session.exportVariables());
  if (!exported.ok) return;
  const picked = exported.value.filter((record) => record.name !== COUNTER && w.random.chance(0.4));
  if (picked.length === 0) return;
  const records = picked.map((record) =>
    w.random.chance(0.5) ? record : { ...record, value: drawValue(w.random, record.name) },
  );
  const names = records.map((record) => record.name);
  const replace = w.random.chance(0.85);
  const options = { replace, ...writer(w, names) };
  const label = `importVariables(${show(records.map(({ name, value }) => ({ name, value })))}, ${show(options)})`;
  const valid = records.every((record) => validFor(record.name, record.value));
  const codes = [...new Set(names.flatMap((name) => stateCodes(w, name)))].filter(
    (code) => code !== 'variable_not_found',
  );
  if (!valid) codes.push('validation_failed');
  if (!replace) codes.push('already_exists');
  const outcome = await w.ledger.record(w.name, label, codes, () => w.session.importVariables(records, options));
  checkValidity(w, label, valid, outcome);
  if (outcome.ok && outcome.value !== records.length)
    w.ledger.violations.push(`${w.name} ${label}: imported ${outcome.value} of ${records.length}`);
};

const read = async (w: Worker): Promise<void> => {
  const name = w.random.pick(NAMES);
  const codes = name === SCRATCH ? ['variable_not_found'] : [];
  const invalid = (where: string, value: unknown): void =>
    void (validFor(name, value) || w.ledger.violations.push(`${w.name} ${where}: read ${show(value)}`));
  switch (w.random.int(4)) {
    case 0: {
      const got = await w.ledger.record(w.name, `getVariable('${name}')`, codes, () => w.session.getVariable(name));
      if (got.ok) invalid(`getVariable('${name}')`, got.value);
      return;
    }
    case 1: {
      const got = await w.ledger.record(w.name, `describeVariable('${name}')`, codes, () =>
        w.session.describeVariable(name),
      );
      if (!got.ok) return;
      invalid(`describeVariable('${name}')`, got.value.value);
      w.seen.set(name, got.value);
      observe(w, `describeVariable('${name}')`, name, got.value.id, got.value.version, false);
      return;
    }
    case 2: {
      const got = await w.ledger.record(w.name, 'getVariables(every name)', [], () =>
        w.session.getVariables([...NAMES]),
      );
      if (!got.ok) return;
      for (const [found, value] of Object.entries(got.value.found))
        if (!validFor(found, value)) w.ledger.violations.push(`${w.name} getVariables: '${found}' ${show(value)}`);
      return;
    }
    default: {
      const label = `variableHistory('${name}')`;
      const got = await w.ledger.record(w.name, label, codes, () => w.session.variableHistory(name));
      if (!got.ok) return;
      const newest = got.value.at(-1);
      if (newest) observe(w, label, name, undefined, newest.version, false);
      got.value.forEach((entry, i) => {
        invalid(`${label} version ${entry.version}`, entry.value);
        const before = got.value[i - 1];
        if (before && entry.version !== before.version + 1)
          w.ledger.violations.push(`${w.name} ${label}: version ${entry.version} follows ${before.version}`);
      });
    }
  }
};

/** The kinds of call, each with its usual weight. */
const OPERATIONS: [number, (worker: Worker) => Promise<void>][] = [
  [25, increment],
  [6, update],
  [15, set],
  [15, compareAndSet],
  [10, batch],
  [6, rollback],
  [6, lock],
  [6, scratch],
  [11, read],
  [4, importBack],
];

/**
 * The mix of a run's calls: the usual weights each scaled by a factor from 0.2 to 3 drawn from the seed, and for some
 * seeds one variable most writes go to, so that seeds differ in what they press on (batches against compare-and-sets,
 * locks, deletions, one hot key...) and not only in order.
 */
export function callMix(seed: number): CallMix {
  const random = createRandom(seed ^ 0x5eed);
  const weights = OPERATIONS.map(([weight]) => weight * (0.2 + random.next() * 2.8));
  return { weights, hot: random.chance(0.4) ? random.pick([...WRITTEN, SCRATCH]) : undefined };
}

/** What a run's workers call: the weight of each kind of call, and the variable most writes go to, if any. */
export interface CallMix {
  readonly weights: readonly number[];
  readonly hot: string | undefined;
}

/**
 * Runs one worker's `calls` calls, drawn from `seed`, on `session`; a lock it holds at the end is released.
 * `before` runs before each call (the run starts its late watches from one worker's sequence).
 */
export async function runWorker(
  name: string,
  session: SessionApi,
  seed: number,
  calls: number,
  ledger: Ledger,
  mix: CallMix,
  before?: (call: number) => Promise<void>,
): Promise<void> {
  const total = mix.weights.reduce((sum, weight) => sum + weight, 0);
  const worker: Worker = {
    name,
    session,
    random: createRandom(seed),
    ledger,
    holding: false,
    seen: new Map(),
    known: new Map(),
    hot: mix.hot,
  };
  for (let call = 0; call < calls; call += 1) {
    let draw = worker.random.next() * total;
    const operation = OPERATIONS.find((_, i) => (draw -= mix.weights[i]!) < 0)?.[1] ?? increment;
    await before?.(call);
    await operation(worker);
  }
  if (worker.holding) await lock(worker);
}
