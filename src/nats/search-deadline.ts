/**
 * `Tether-Search-Deadline`: the header of the questions of a census (execution-census.ts) that its caller may
 * conclude from. Its value is the deadline of the execution searched for, as its `Tether-Deadline` gave it: a node
 * with no record of the execution refuses it, should it take it late, until then (see searched-executions.ts).
 * @module
 */
import { ValidationError } from '../errors.js';
import { SECONDS_LIKELY_BELOW } from './request-deadline.js';

/** The header of the questions of a census its caller may conclude from. */
export const SEARCH_DEADLINE_HEADER = 'Tether-Search-Deadline';

const EPOCH_MS = /^\d{1,15}$/;

/**
 * The deadline a census question's header `value` gives, in ms since 1970; `undefined` without one.
 * @throws {ValidationError} naming the header when it is not ms since 1970 in decimal digits, or is seconds since
 * 1970 (which would lapse at once, and protect nothing)
 */
export function searchDeadlineIn(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const refuse = (why: string) =>
    new ValidationError(`header ${SEARCH_DEADLINE_HEADER} must be ${why}, got '${value.slice(0, 40)}'`, {
      details: { constraint: SEARCH_DEADLINE_HEADER },
    });
  if (!EPOCH_MS.test(value)) throw refuse('ms since 1970 in decimal digits');
  const deadline = Number(value);
  if (deadline < SECONDS_LIKELY_BELOW) throw refuse('ms since 1970, not seconds');
  return deadline;
}
