/**
 * The write requests of the Session API's batch writes (`setVariables`, `importVariables`): their arguments are
 * checked as a whole here, before anything reaches the session process; each value or record is checked where the
 * request is planned (write-plan.ts), all or nothing where the batch says so.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { assertRecordsArray, assertValuesObject } from './argument-checks.js';
import { assertOptions, type ImportVariablesOptions, type SetVariablesOptions } from './options.js';
import type { WriteRequest } from './write-plan.js';
import { readOptions } from '../runtime/option-keys.js';

/** The request of `setVariables(values, options)` made at `at`; `ValidationError` for a bad bag or values. */
export function setManyRequest(values: unknown, options: SetVariablesOptions, at: string): WriteRequest {
  assertOptions(options, 'setVariables');
  assertValuesObject(values);
  const { atomic = false, ...attribution } = options;
  return { kind: 'setMany', values: readOptions(values, 'setVariables', 'value'), atomic, ...attribution, at };
}

/**
 * The request of `importVariables(records, options)` made at `at`, with a fresh id for each record (used when it
 * defines a new variable); `ValidationError` for a bad bag or a records argument that is no array.
 */
export function importRequest(records: unknown, options: ImportVariablesOptions, at: string): WriteRequest {
  assertOptions(options, 'importVariables');
  assertRecordsArray(records);
  return {
    kind: 'import',
    records,
    ids: records.map(() => randomUUID()),
    replace: options.replace ?? false,
    updatedBy: options.updatedBy,
    at,
  };
}
