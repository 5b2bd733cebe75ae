/**
 * `boolean`, `choice` and `module` values: the small scalar types whose rules are a fixed set of accepted inputs.
 * @module
 */
import { fail, joinList, show } from './failure.js';
import { checkMembership } from './string-value.js';
import type { ChoiceConstraints, ModuleConstraints } from './types.js';

/**
 * Validates a `boolean`. Accepts booleans, the exact strings `"true"`/`"false"` and the numbers `1`/`0` (what
 * Python and shell clients send), nothing else: `"yes"`, `"TRUE"` or `2` are more likely bugs than intent.
 * @example
 * validateBoolean('false', 'verbose') // false
 */
export function validateBoolean(value: unknown, variable: string): boolean {
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  return fail(variable, `must be a boolean (true or false), got ${show(value)}`, { constraint: 'type' });
}

/**
 * Validates a `choice`: a string among `choices`. A choice variable without `choices` cannot be defined, so
 * meeting one here means the constraints skipped `validateConstraints`; refusing is safer than allowing all.
 * @example
 * validateChoice('green', { choices: ['red', 'green', 'blue'] }, 'color') // 'green'
 */
export function validateChoice(value: unknown, constraints: Partial<ChoiceConstraints>, variable: string): string {
  if (typeof value !== 'string') {
    return fail(variable, `must be a string, got ${show(value)}`, { constraint: 'type' });
  }
  if (constraints.choices === undefined) {
    return fail(variable, 'has no choices defined; a choice variable needs the `choices` constraint', {
      constraint: 'choices',
    });
  }
  checkMembership(value, constraints.choices, variable, 'choices');
  return value;
}

/**
 * Validates a `module`: a non-empty module type name, among `allowedModules` when given. The comparison is
 * exact; the module resolver's case-insensitive lookup happens later and does not widen what is allowed here.
 * @example
 * validateModule('ChainOfThought', { allowedModules: ['Predict', 'ChainOfThought'] }, 'strategy')
 */
export function validateModule(value: unknown, constraints: ModuleConstraints, variable: string): string {
  if (typeof value !== 'string' || value === '') {
    return fail(variable, `must be a module name, got ${show(value)}`, { constraint: 'type' });
  }
  const allowed = constraints.allowedModules;
  if (allowed !== undefined && !allowed.includes(value)) {
    fail(variable, `must be one of the allowed modules: ${joinList(allowed)}`, {
      constraint: 'allowedModules',
      allowed: [...allowed],
    });
  }
  return value;
}
