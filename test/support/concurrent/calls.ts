/**
 * The concurrency fuzzer's calls, one function per kind: each draws its arguments from the worker's random source,
 * records the call in the ledger with the codes it may be refused with while others write, claims the version a
 * resolved write's reply names, and checks what a read returns.
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
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
import {
  checkValidity,
  claimRecord,
  missing,
  observe,
  show,
  someName,
  stateCodes,
  writer,
  type Worker,
} from './worker.js';

/** An increment of the counter, which must always resolve: its value is counted. */
export const increment = async (w: Worker): Promise<void> => {
  const label = `updateVariable('${COUNTER}', +1)`;
  const outcome = await w.ledger.record(w.name, label, [], () => w.session.updateVariable(COUNTER, updateFor(COUNTER)));
  if (!outcome.ok) return;
  w.ledger.increments.push(outcome.value.value as number);
  claimRecord(w, label, outcome.value, undefined);
};

/** An `updateVariable` of another variable, whose function keeps it valid. */
export const update = async (w: Worker): Promise<void> => {
  const name = someName(w, [...WRITTEN, SCRATCH]);
  const options = writer(w, [name]);
  const label = `updateVariable('${name}', ${show(options)})`;
  const outcome = await w.ledger.record(w.name, label, stateCodes(w, name), () =>
    w.session.updateVariable(name, updateFor(name), options),
  );
  if (outcome.ok) claimRecord(w, label, outcome.value, options.updatedBy);
};

/** A `setVariable` without compare-and-set, of a valid value mostly. */
export const set = async (w: Worker): Promise<void> => {
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

/** A `setVariable` with `expectedVersion` (and `expectedId` now and then), on a fresh read or an older one. */
export const compareAndSet = async (w: Worker): Promise<void> => {
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

/** A `setVariables` of some variables, atomic or not, each name answered. */
export const batch = async (w: Worker): Promise<void> => {
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

/** A `rollbackVariable` to a version its history read just showed. */
export const rollback = async (w: Worker): Promise<void> => {
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

/** The lock of `s`, taken or, by its holder, released. */
export const lock = async (w: Worker): Promise<void> => {
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

/** The scratch variable deleted, or defined again. */
export const scratch = async (w: Worker): Promise<void> => {
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
export const importBack = async (w: Worker): Promise<void> => {
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

/** A read of one variable or all, whose values must be valid and never older than this handle saw. */
export const read = async (w: Worker): Promise<void> => {
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
