/**
 * Turns a write request into the store writes that carry it out and the value the caller gets back, or into
 * a typed error with nothing written. Pure: the session machine plans against its current view of the
 * variables, commits the plan with compare-and-set, and re-plans if the store moved on.
 * @module
 */
import {
  AlreadyExistsError,
  BridgeError,
  ValidationError,
  VariableLockedError,
  VariableNotFoundError,
  VersionConflictError,
  type SerializedError,
} from '../errors.js';
import type { StoreWrite } from '../store/store.js';
import { assertWritableBy, importRecord, withLock, withValue } from '../variables/record.js';
import { isPlainObject } from '../variables/json-value.js';
import { assertVariableName, isVariableName } from '../variables/names.js';
import { withPatternBudget } from '../variables/string-pattern.js';
import type { VariableRecord } from '../variables/types.js';
import { assertLockArguments } from './argument-checks.js';
import { frozenPlan } from './frozen-writes.js';
import { decide, failedOutcome, outcomesOf, type SetManyRequest } from './name-by-name.js';

/** A write the session process carries out, one at a time, in arrival order. */
export type WriteRequest =
  | {
      readonly kind: 'define';
      /**
       * The definition's version-1 record, built (and so checked) by the caller before the write was asked for: a
       * definition's arguments are refused alike whatever the session's state, as a remote handle refuses them
       * before sending (session/argument-checks.ts). What is left to the process is whether the name is free.
       */
      readonly record: VariableRecord;
    }
  | {
      readonly kind: 'set';
      readonly name: string;
      readonly value: unknown;
      readonly expectedVersion?: number | undefined;
      readonly expectedId?: string | undefined;
      readonly updatedBy?: string | undefined;
      readonly reason?: string | undefined;
      readonly at: string;
    }
  | {
      readonly kind: 'setMany';
      readonly values: readonly (readonly [string, unknown])[];
      readonly atomic: boolean;
      readonly updatedBy?: string | undefined;
      readonly reason?: string | undefined;
      readonly at: string;
      /** Set by the session process once the batch lost a race as one commit: one name per commit from then on. */
      readonly oneByOne?: boolean | undefined;
      /** Name by name: the names answered so far (written, refused, or given up on), which the planner skips. */
      readonly decided?: readonly (readonly [string, SetOutcome])[] | undefined;
    }
  | { readonly kind: 'delete'; readonly name: string; readonly updatedBy?: string | undefined; readonly at: string }
  | { readonly kind: 'lock'; readonly name: string; readonly owner: string; readonly at: string }
  | { readonly kind: 'unlock'; readonly name: string; readonly owner: string; readonly at: string }
  | {
      readonly kind: 'import';
      readonly records: readonly unknown[];
      readonly ids: readonly string[];
      readonly replace: boolean;
      readonly updatedBy?: string | undefined;
      readonly at: string;
    };

/** One name's outcome in a non-atomic `setVariables`. */
export type SetOutcome =
  | { readonly ok: true; readonly version: number }
  | {
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string; readonly details?: Record<string, unknown> };
    };

/**
 * What a request turns into: the writes to commit and the caller's answer. Watchers are told by the session
 * when it applies the committed writes, the same path as writes from other nodes.
 */
export interface WritePlan {
  readonly writes: readonly StoreWrite<VariableRecord>[];
  readonly reply: unknown;
  /**
   * A batch carried on name by name (name-by-name.ts): the request that goes on once `writes` commit. The caller is
   * answered only by the plan that has no `next`.
   */
  readonly next?: WriteRequest;
  /**
   * Keys a plan without writes was judged on, each at the revision the view holds: the answer waits until the store
   * confirms each is still there. A view can lag the store (another node's write not routed here yet), and a write
   * that looks done on it would otherwise be answered without ever being written.
   */
  readonly checks?: readonly StoreCheck[];
  /**
   * A refusal judged on the view's state of the `checks` keys (see {@link refusalChecks}): the caller gets it once
   * the store confirms each key is still there; a key that moved is folded in and the write planned again.
   */
  readonly refusal?: SerializedError;
  /**
   * Keys of the names a non-atomic batch refused on the view's state (see {@link refusalChecks}), each at the revision
   * the view holds: on the write's first plan the store confirms each is still there before anything is written; a
   * key that moved is folded in and the batch planned again, so no name is refused on a view that lags the store.
   */
  readonly confirmFirst?: readonly StoreCheck[];
  /** Set by the session process on a plan that only confirms another's {@link confirmFirst}: plan again after. */
  readonly replan?: true;
}

/** A key a plan was judged on and the revision it must still be at. */
export interface StoreCheck {
  readonly key: string;
  readonly expectedRevision: number;
}

/** The session's view the planner reads: records by name, and the store revision last seen for each name. */
export interface SessionView {
  readonly sessionId: string;
  readonly variables: ReadonlyMap<string, VariableRecord>;
  readonly revisions: ReadonlyMap<string, number>;
}

/** The store key of a session's variable: `<session>.<variable>`. */
export function variableKey(sessionId: string, name: string): string {
  return `${sessionId}.${name}`;
}

/**
 * The keys a refusal of `request` was judged on, each at the revision the view holds, when the refusal rests on the
 * state of those keys: a variable missing, locked, at another version than expected, or there already. A view can
 * lag the store (another node's define, unlock or write not routed here yet), and its caller may know better (the
 * process that unlocked told this one to go ahead), so such a refusal is confirmed against the store before it is
 * answered. `undefined` for any other refusal: a value its type refuses stays refused whatever the store holds.
 */
export function refusalChecks(view: SessionView, request: WriteRequest, error: unknown): StoreCheck[] | undefined {
  if (!judgedOnState(error)) return undefined;
  return namesWritten(request)?.map((name) => stateCheck(view, name));
}

/** Whether a refusal rests on the view's state of a variable, which the store may know better ({@link refusalChecks}). */
function judgedOnState(error: unknown): boolean {
  return (
    error instanceof VariableNotFoundError ||
    error instanceof VariableLockedError ||
    error instanceof VersionConflictError ||
    error instanceof AlreadyExistsError
  );
}

/** The check that the store still holds variable `name` where the view does. */
function stateCheck(view: SessionView, name: string): StoreCheck {
  // A name the view does not hold is at its delete marker's revision, or 0 (never written): see `hasMoved`.
  return { key: variableKey(view.sessionId, name), expectedRevision: view.revisions.get(name) ?? 0 };
}

/** The names a request writes, for those whose refusal {@link refusalChecks} confirms; `undefined` for the rest. */
function namesWritten(request: WriteRequest): string[] | undefined {
  switch (request.kind) {
    case 'define':
      return [request.record.name];
    case 'set':
    case 'delete':
    case 'lock':
    case 'unlock':
      return [request.name];
    case 'setMany':
      // A non-atomic batch answers each name's refusal in its reply rather than refusing the call (see `confirmFirst`).
      // A name no variable can have has no key to read (the store would refuse it): it stays refused on its own.
      return request.atomic ? request.values.map(([name]) => name).filter(isVariableName) : undefined;
    case 'import':
      // A record with no name a variable can have is refused on its own (as is a malformed one), whatever the store holds.
      return request.records.map((record) => (isPlainObject(record) ? record.name : undefined)).filter(isVariableName);
  }
}

/** Plans a write; throws a `BridgeError` when the request must be refused. */
export function planWrite(view: SessionView, request: WriteRequest): WritePlan {
  // One pattern budget for the whole request: a batch of many values must not take longer than one value may. Frozen:
  // the plan in flight is shown to inspectors, and the store reads its writes later (frozen-writes.ts).
  return frozenPlan(withPatternBudget(() => planRequest(view, request)));
}

function planRequest(view: SessionView, request: WriteRequest): WritePlan {
  switch (request.kind) {
    case 'define':
      return planDefine(view, request);
    case 'set':
      return planSet(view, request);
    case 'setMany':
      if (request.atomic) return planSetAtomic(view, request);
      return request.oneByOne ? planNextName(view, request) : planSetEach(view, request);
    case 'delete':
      return planDelete(view, request);
    case 'lock':
    case 'unlock':
      return planLock(view, request);
    case 'import':
      return planImport(view, request);
  }
}

function existing(view: SessionView, name: string): VariableRecord {
  const record = view.variables.get(name);
  if (record) return record;
  // A name no variable can have is the caller's mistake, not a missing definition: say so, as reads do.
  assertVariableName(name);
  throw new VariableNotFoundError(view.sessionId, name);
}

/** A put that is compare-and-set against the last revision this session saw (0: the key must be absent). */
function put(view: SessionView, record: VariableRecord): StoreWrite<VariableRecord> {
  const key = variableKey(view.sessionId, record.name);
  const expectedRevision = view.variables.has(record.name) ? (view.revisions.get(record.name) ?? 0) : 0;
  return { operation: 'put', key, value: record, expectedRevision };
}

function planDefine(view: SessionView, request: Extract<WriteRequest, { kind: 'define' }>): WritePlan {
  const { record } = request;
  if (view.variables.has(record.name))
    throw new AlreadyExistsError('variable', record.name, { details: { sessionId: view.sessionId } });
  return { writes: [put(view, record)], reply: record };
}

function planSet(view: SessionView, request: Extract<WriteRequest, { kind: 'set' }>): WritePlan {
  const before = existing(view, request.name);
  if (request.expectedId !== undefined && request.expectedId !== before.id) {
    throw new VersionConflictError(before.name, request.expectedVersion, before.version, {
      details: { expectedId: request.expectedId, actualId: before.id },
    });
  }
  if (request.expectedVersion !== undefined && request.expectedVersion !== before.version) {
    throw new VersionConflictError(before.name, request.expectedVersion, before.version);
  }
  const after = withValue(before, request.value, request);
  return { writes: [put(view, after)], reply: after };
}

function planSetAtomic(view: SessionView, request: Extract<WriteRequest, { kind: 'setMany' }>): WritePlan {
  const writes: StoreWrite<VariableRecord>[] = [];
  const outcomes: [string, SetOutcome][] = [];
  for (const [name, value] of request.values) {
    const before = existing(view, name);
    const after = withValue(before, value, request);
    writes.push(put(view, after));
    outcomes.push([name, { ok: true, version: after.version }]);
  }
  // Built from entries: assigning `reply['__proto__']` would set the prototype and lose that variable.
  return { writes, reply: Object.fromEntries(outcomes) };
}

function planSetEach(view: SessionView, request: Extract<WriteRequest, { kind: 'setMany' }>): WritePlan {
  const writes: StoreWrite<VariableRecord>[] = [];
  const outcomes: [string, SetOutcome][] = [];
  const confirmFirst: StoreCheck[] = [];
  for (const [name, value] of request.values) {
    try {
      const before = existing(view, name);
      const after = withValue(before, value, request);
      writes.push(put(view, after));
      outcomes.push([name, { ok: true, version: after.version }]);
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      outcomes.push([name, { ok: false, error: error.toJSON() }]);
      if (judgedOnState(error)) confirmFirst.push(stateCheck(view, name));
    }
  }
  return { writes, reply: Object.fromEntries(outcomes), ...(confirmFirst.length > 0 && { confirmFirst }) };
}

/**
 * Name by name: the first name not decided yet that can be written, as the plan's only write, the names refused
 * before it decided on the way. With no such name left, the batch is done and the plan answers every name.
 */
function planNextName(view: SessionView, request: SetManyRequest): WritePlan {
  let carried = request;
  const decided = new Set(request.decided?.map(([name]) => name));
  for (const [name, value] of request.values) {
    if (decided.has(name)) continue;
    try {
      const after = withValue(existing(view, name), value, request);
      return { writes: [put(view, after)], reply: undefined, next: decide(carried, name, okOutcome(after)) };
    } catch (error) {
      if (!(error instanceof BridgeError)) throw error;
      carried = decide(carried, name, failedOutcome(error.toJSON()));
    }
  }
  return { writes: [], reply: outcomesOf(carried) };
}

function okOutcome(record: VariableRecord): SetOutcome {
  return { ok: true, version: record.version };
}

function planDelete(view: SessionView, request: Extract<WriteRequest, { kind: 'delete' }>): WritePlan {
  const before = existing(view, request.name);
  assertWritableBy(before, request.updatedBy);
  const key = variableKey(view.sessionId, request.name);
  const expectedRevision = view.revisions.get(request.name) ?? 0;
  // Who deletes goes with the marker: no record is left to keep it, and every watcher is told it from there.
  const by = request.updatedBy === undefined ? {} : { updatedBy: request.updatedBy };
  // The variable's history goes with it: nothing reads it once it is deleted (a variable defined again under the
  // name is another, with a history of its own), and kept, it would take room in the store until the session ends.
  return { writes: [{ operation: 'delete', key, expectedRevision, ...by, dropHistory: true }], reply: true };
}

function planLock(view: SessionView, request: Extract<WriteRequest, { kind: 'lock' | 'unlock' }>): WritePlan {
  // The arguments before the variable: a wrong owner is refused alike whether the variable exists or not, as a
  // remote handle refuses it before sending (session/argument-checks.ts).
  assertLockArguments(request.name, request.owner);
  const before = existing(view, request.name);
  const owner = request.kind === 'lock' ? request.owner : null;
  if (before.lockedBy === owner) {
    // Judged on the view only: confirmed against the store before it is answered (see `WritePlan.checks`).
    const key = variableKey(view.sessionId, request.name);
    return { writes: [], reply: before, checks: [{ key, expectedRevision: view.revisions.get(request.name) ?? 0 }] };
  }
  const after = withLock(before, owner, request.owner);
  return { writes: [put(view, after)], reply: after };
}

function planImport(view: SessionView, request: Extract<WriteRequest, { kind: 'import' }>): WritePlan {
  const seen = new Set<string>();
  const writes: StoreWrite<VariableRecord>[] = [];
  request.records.forEach((raw, index) => {
    const record = importRecord(raw, request.ids[index] ?? `${index}`, request, index);
    if (seen.has(record.name))
      throw new ValidationError(`import names variable '${record.name}' twice`, { variable: record.name });
    seen.add(record.name);
    const before = view.variables.get(record.name);
    if (before && !request.replace)
      throw new AlreadyExistsError('variable', record.name, { details: { sessionId: view.sessionId } });
    if (before) assertWritableBy(before, request.updatedBy);
    // A replaced variable keeps counting versions, so watchers still see versions rise, and keeps its lock: only its
    // owner gets this far, and a write by the owner (as `setVariable`) leaves the lock in place.
    const next = before
      ? Object.freeze({
          ...record,
          id: before.id,
          version: before.version + 1,
          createdAt: before.createdAt,
          lockedBy: before.lockedBy,
        })
      : record;
    writes.push(put(view, next));
  });
  return { writes, reply: writes.length };
}
