/**
 * What each variable endpoint does: read and check its request fields, call the Session API, and shape the
 * result for JSON. One entry per operation, so a new endpoint is one new entry (and one subject token).
 *
 * Names are checked here, before the session sees them: an unknown name with a dot or a space would otherwise
 * come back as `variable_not_found` when the caller's real mistake is an invalid name. `setMany` is the exception:
 * the session checks each name of a batch itself, so that a non-atomic batch gives an invalid name its own outcome.
 * @module
 */
import { PayloadTooLargeError, VariableNotFoundError } from '../errors.js';
import { assertNamesArray } from '../session/argument-checks.js';
import { encodeValue } from '../variables/codec.js';
import { assertVariableName } from '../variables/names.js';
import type { VariableType } from '../variables/types.js';
import { assertLockOwner } from '../variables/record.js';
import type { VariableHistoryEntry } from '../session/variable-history.js';
import { fittedError } from './error-fit.js';
import type { OperationSession } from './gone-session.js';
import { PAGE_OVERHEAD_BYTES, fitPage, type FittedPage } from './fitted-page.js';
import type { VariableOperation } from './operations.js';
import { pageRequestOf, type PagedList } from './session-page.js';
import {
  assertFields,
  isLeftOut,
  optionalBoolean,
  optionalCount,
  optionalJsonValue,
  optionalString,
  requireArray,
  requireObject,
  requirePresent,
  requireString,
} from './request-fields.js';
import { encodeRecord, type RequestBody } from './wire.js';

/**
 * Refuses fields the variable operation does not know. Its body comes here untagged (session-request.ts), so
 * `tagged` is never among them, but every variable operation accepts it: the refusal lists it too.
 */
function assertVariableFields(body: RequestBody, allowed: readonly string[], operation: string): void {
  assertFields(body, [...allowed, 'tagged'], operation);
}

/**
 * Runs one operation on a session; resolves to the JSON-ready result. `pageBytes` is what a paged result's items may
 * take together (see fitted-page.ts).
 */
export type OperationHandler = (session: OperationSession, body: RequestBody, pageBytes: number) => Promise<unknown>;

/**
 * Refuses a page whose one item is over the server's `max_payload` on its own (`what` names it): stored while the
 * server took larger messages, it can be read by no request until it is written smaller. An item just under that
 * goes out, and is refused by the reply's own size check if the envelope takes it over.
 */
function assertFitsAlone(
  session: OperationSession,
  what: () => string,
  page: FittedPage<unknown>,
  pageBytes: number,
): void {
  const limit = pageBytes + PAGE_OVERHEAD_BYTES;
  if (page.oversized === undefined || page.oversized <= limit) return;
  throw new PayloadTooLargeError(
    `${what()} of session '${session.sessionId}'`,
    page.oversized,
    limit,
    'it was stored while the server took larger messages, and no reply can carry it: write a smaller value or delete it',
  );
}

/** `var.list` with `after` or `limit`: a page of the session's variables. */
const VARIABLE_PAGE: PagedList = { operation: 'list', fields: ['pattern', 'tagged'], defaultLimit: Infinity };

/** The request's `name` field: a string that is a valid variable name. */
function name(body: RequestBody): string {
  const value = requireString(body, 'name');
  assertVariableName(value);
  return value;
}

/**
 * The `owner` of a lock or unlock: a missing one is a missing field, as for any request (the JavaScript client
 * refuses an `undefined` owner itself, in the embedded API's words, before it sends anything). One that is no string is
 * refused here as the embedded API refuses it ("lock owner for 't' must be a string, got number"), not as a request
 * field, so a remote client's caller hears what an embedded one does. A string is the session's to judge, by the same
 * rule.
 */
function lockOwner(body: RequestBody, variable: string): string {
  const owner = requirePresent(body, 'owner');
  return typeof owner === 'string' ? owner : assertLockOwner(variable, owner);
}

/** What a `define` request asks for, its fields checked: an unknown or missing one is refused here. */
export interface DefineFields {
  readonly name: string;
  readonly type: string;
  readonly value: unknown;
  readonly options: RequestBody;
}

/**
 * The fields of a `define` request (untagged), checked as the endpoint checks them. Shared with the judgement of a
 * define whose session is not there (define-judgement.ts), so that both refuse the same requests alike.
 */
export function defineFields(body: RequestBody): DefineFields {
  assertVariableFields(body, ['name', 'type', 'value', 'options'], 'define');
  const options = isLeftOut(body.options) ? {} : requireObject(body, 'options');
  return { name: name(body), type: requireString(body, 'type'), value: requirePresent(body, 'value'), options };
}

/** Only the attribution fields that were sent (`exactOptionalPropertyTypes`: absent, never `undefined`). */
function attribution(
  body: RequestBody,
  fields: readonly ('updatedBy' | 'reason')[],
): { updatedBy?: string; reason?: string } {
  const result: { updatedBy?: string; reason?: string } = {};
  for (const field of fields) {
    const value = optionalString(body, field);
    if (value !== undefined) result[field] = value;
  }
  return result;
}

/** The handler of every variable operation. */
export const OPERATIONS: Readonly<Record<VariableOperation, OperationHandler>> = {
  async define(session, body) {
    const { name, type, value, options } = defineFields(body);
    // The type as the request gave it: the session checks it, as it checks an embedded caller's.
    return encodeRecord(await session.defineVariable(name, type as VariableType, value, options));
  },

  async get(session, body) {
    assertVariableFields(body, ['name', 'default'], 'get');
    const variable = name(body);
    // Checked as any value a variable could hold, whether or not it is used: it is echoed back in the reply.
    if (Object.hasOwn(body, 'default')) optionalJsonValue(body, 'default');
    try {
      const record = await session.describeVariable(variable);
      return { value: encodeValue(record.type, record.value), type: record.type, version: record.version };
    } catch (error) {
      if (error instanceof VariableNotFoundError && Object.hasOwn(body, 'default'))
        return { value: body.default, type: null, version: 0 };
      throw error;
    }
  },

  async describe(session, body) {
    assertVariableFields(body, ['name', 'fresh'], 'describe');
    // `updateVariable`'s read: a variable this node's view does not hold yet is read from the bucket.
    const fresh = optionalBoolean(body, 'fresh') === true;
    const read = fresh ? session.describeFresh(name(body)) : session.describeVariable(name(body));
    return encodeRecord(await read);
  },

  async has(session, body) {
    assertVariableFields(body, ['name'], 'has');
    return session.hasVariable(name(body));
  },

  async list(session, body, pageBytes) {
    assertVariableFields(body, ['pattern', 'after', 'limit'], 'list');
    // Without `after` or `limit`, the whole list in one reply, as the protocol has always answered it.
    const request = isLeftOut(body.after) && isLeftOut(body.limit) ? undefined : pageRequestOf(body, VARIABLE_PAGE);
    const records = await session.listVariables(optionalString(body, 'pattern') ?? '*');
    if (!request) return records.map(encodeRecord);
    const { after, limit } = request;
    // Names are ASCII: comparing code units orders them by code point, as `after` is documented.
    const rest = after === undefined ? records : records.filter((record) => record.name > after);
    const page = fitPage(rest, encodeRecord, limit, pageBytes);
    assertFitsAlone(session, () => `variable '${page.items[0]!.name}'`, page, pageBytes);
    return page.more ? { variables: page.items, next: page.items.at(-1)!.name } : { variables: page.items };
  },

  async getMany(session, body) {
    assertVariableFields(body, ['names'], 'getMany');
    const names = requireArray(body, 'names');
    assertNamesArray(names);
    names.forEach((entry) => assertVariableName(entry));
    const snapshot = await session.readVariables(names);
    const found: [string, { value: unknown; version: number; type: string; id?: string }][] = [];
    for (const [variable, read] of Object.entries(snapshot.found)) {
      // The type read with the value: an import may change it, and a delete end it, while this reply is built.
      const { type } = read;
      const encoded = { value: encodeValue(type, read.value), version: read.version, type };
      found.push([variable, read.id === undefined ? encoded : { ...encoded, id: read.id }]);
    }
    // Built from entries: assigning `found['__proto__']` would set the prototype and lose that variable.
    return { found: Object.fromEntries(found), missing: snapshot.missing };
  },

  async set(session, body) {
    assertVariableFields(body, ['name', 'value', 'expectedVersion', 'expectedId', 'updatedBy', 'reason'], 'set');
    const expectedVersion = optionalCount(body, 'expectedVersion');
    const expectedId = optionalString(body, 'expectedId');
    const options = {
      ...attribution(body, ['updatedBy', 'reason']),
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      ...(expectedId === undefined ? {} : { expectedId }),
    };
    return encodeRecord(await session.setVariable(name(body), requirePresent(body, 'value'), options));
  },

  async delete(session, body) {
    assertVariableFields(body, ['name', 'updatedBy'], 'delete');
    await session.deleteVariable(name(body), attribution(body, ['updatedBy']));
    return true;
  },

  async setMany(session, body) {
    assertVariableFields(body, ['values', 'atomic', 'updatedBy', 'reason'], 'setMany');
    // Names are left to the session: a non-atomic batch answers an invalid one in its own outcome and writes the
    // rest, as the embedded API does; an atomic batch refuses the whole batch for it.
    const values = requireObject(body, 'values');
    const atomic = optionalBoolean(body, 'atomic');
    const outcomes = await session.setVariables(values, {
      ...attribution(body, ['updatedBy', 'reason']),
      ...(atomic === undefined ? {} : { atomic }),
    });
    // Each refusal cut as an error reply is: two that list 20,000 choices each would not fit in one message.
    return Object.fromEntries(
      Object.entries(outcomes).map(([key, outcome]) => [
        key,
        outcome.ok ? outcome : { ok: false, error: fittedError(outcome.error) },
      ]),
    );
  },

  async history(session, body, pageBytes) {
    assertVariableFields(body, ['name', 'limit', 'after'], 'history');
    const variable = name(body);
    const limit = optionalCount(body, 'limit', 1);
    const after = optionalCount(body, 'after');
    const { record, entries } = await session.recordHistory(variable, limit === undefined ? {} : { limit });
    // Each entry through the codec of its own type, which it carries: an import may have changed the type since.
    const encode = (entry: VariableHistoryEntry) => ({ ...entry, value: encodeValue(entry.type, entry.value) });
    if (after === undefined) return { type: record.type, entries: entries.map(encode) };
    const page = fitPage(
      entries.filter((entry) => entry.version > after),
      encode,
      Infinity,
      pageBytes,
    );
    assertFitsAlone(session, () => `version ${page.items[0]!.version} of variable '${variable}'`, page, pageBytes);
    // The variable's identity: a client reading pages notices one defined again between two of them.
    const fields = { type: record.type, id: record.id, entries: page.items };
    return page.more ? { ...fields, next: page.items.at(-1)!.version } : fields;
  },

  async rollback(session, body) {
    assertVariableFields(body, ['name', 'version', 'updatedBy'], 'rollback');
    return encodeRecord(
      // The session checks the version, so the wire refuses 0 and -1 in the embedded API's words ("from 1").
      await session.rollbackVariable(
        name(body),
        requirePresent(body, 'version') as number,
        attribution(body, ['updatedBy']),
      ),
    );
  },

  async lock(session, body) {
    assertVariableFields(body, ['name', 'owner'], 'lock');
    const variable = name(body);
    return encodeRecord(await session.lockVariable(variable, lockOwner(body, variable)));
  },

  async unlock(session, body) {
    assertVariableFields(body, ['name', 'owner'], 'unlock');
    const variable = name(body);
    return encodeRecord(await session.unlockVariable(variable, lockOwner(body, variable)));
  },

  async export(session, body) {
    assertVariableFields(body, [], 'export');
    return session.exportVariables();
  },

  async import(session, body) {
    assertVariableFields(body, ['records', 'replace', 'updatedBy'], 'import');
    const replace = optionalBoolean(body, 'replace');
    return session.importVariables(requireArray(body, 'records'), {
      ...attribution(body, ['updatedBy']),
      ...(replace === undefined ? {} : { replace }),
    });
  },
};
