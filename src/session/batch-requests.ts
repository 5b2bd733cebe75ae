/**
 * The write requests of the Session API's batch writes (`setVariables`, `importVariables`): their arguments are
 * checked as a whole here, before anything reaches the session process; each value or record is checked where the
 * request is planned (write-plan.ts), all or nothing where the batch says so. Values and records are taken as they
 * are at the call (value-as-called.ts): the request is planned in its turn, and the caller may change them meanwhile.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { assertRecordsArray, assertValuesObject } from './argument-checks.js';
import { assertOptions, type ImportVariablesOptions, type SetVariablesOptions } from './options.js';
import type { WriteRequest } from './write-plan.js';
import { readOptions } from '../option-keys.js';
import { valueAsCalled } from '../variables/value-as-called.js';

/** The request of `setVariables(values, options)` made at `at`; `ValidationError` for a bad bag or values. */
export function setManyRequest(values: unknown, options: SetVariablesOptions, at: string): WriteRequest {
  assertOptions(options, 'setVariables');
  assertValuesObject(values);
  const { atomic = false, ...attribution } = options;
  const read = readOptions(values, 'setVariables', 'value');
  return {
    kind: 'setMany',
    values: read.map(([name, value]) => [name, valueAsCalled(value)]),
    atomic,
    ...attribution,
    at,
  };
}

/**
 * The request of `importVariables(records, options)` made at `at`, with a fresh id for each record (used when it
 * defines a new variable); `ValidationError` for a bad bag or a records argument that is no array.
 */
export function importRequest(records: unknown, options: ImportVariablesOptions, at: string): WriteRequest {
  assertOptions(options, 'importVariables');
  assertRecordsArray(records);
  // Read once (the check above read them already; a getter reading differently the second time is the caller's).
  const taken = Array.from(records, (record) => valueAsCalled(record));
  return {
    kind: 'import',
    records: taken,
    ids: taken.map(() => randomUUID()),
    replace: options.replace ?? false,
    updatedBy: options.updatedBy,
    at,
  };
}
