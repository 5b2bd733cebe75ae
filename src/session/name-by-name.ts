/**
 * A non-atomic `setVariables` carried on name by name. Uncontended, such a batch is one commit of every name. A
 * commit of several keys is all or nothing, and on a KV bucket it needs a check round trip before its writes, so a
 * writer of one of those keys elsewhere (one round trip) can win every race against it. Once the batch has lost one,
 * the session process writes it one name per commit: a busy name costs the batch that name alone, and every other
 * name is written and answered as the README promises.
 * @module
 */
import type { SerializedError } from '../errors.js';
import type { SetOutcome, WriteRequest } from './write-plan.js';

/** The request of a `setVariables`. */
export type SetManyRequest = Extract<WriteRequest, { kind: 'setMany' }>;

/** Whether `request` is a batch already carried on name by name. */
export function isNameByName(request: WriteRequest): request is SetManyRequest {
  return request.kind === 'setMany' && request.oneByOne === true;
}

/** Whether `request` is a non-atomic batch that still goes as one commit (it turns name by name on a lost race). */
export function mayGoNameByName(request: WriteRequest): request is SetManyRequest {
  return request.kind === 'setMany' && !request.atomic && request.oneByOne !== true;
}

/**
 * The batch carried on name by name from its start. Nothing of it is decided yet: the commit that lost the race
 * wrote none of its names (a commit that conflicts leaves every value as it was).
 */
export function nameByName(request: SetManyRequest): SetManyRequest {
  // Frozen as the request it carries on (see frozen-writes.ts).
  return Object.freeze({ ...request, oneByOne: true, decided: Object.freeze([]) });
}

/** The batch with `name` decided as `outcome`; the planner skips decided names. */
export function decide(request: SetManyRequest, name: string, outcome: SetOutcome): SetManyRequest {
  // Frozen as the request it carries on (see frozen-writes.ts); the answer copies each outcome back out.
  const decided = Object.freeze([name, Object.freeze(outcome)] as const);
  return Object.freeze({ ...request, decided: Object.freeze([...(request.decided ?? []), decided]) });
}

/**
 * The caller's answer: each name's outcome in the order of `values`, `undecided` for a name not decided yet.
 * Built from entries: assigning `reply['__proto__']` would set the prototype and lose that variable.
 */
export function outcomesOf(request: SetManyRequest, undecided?: SetOutcome): Record<string, SetOutcome> {
  const decided = new Map(request.decided);
  return Object.fromEntries(
    request.values.flatMap(([name]): [string, SetOutcome][] => {
      const outcome = decided.get(name) ?? undecided;
      // A copy: the decided outcomes are frozen, and the answer's entries are the caller's to change.
      return outcome ? [[name, { ...outcome }]] : [];
    }),
  );
}

/** The outcome of a name that failed with `error`. */
export function failedOutcome(error: SerializedError): SetOutcome {
  return { ok: false, error };
}
