/**
 * The fuzzer's expected state of the node: built only from successful replies, it says what `var.list`,
 * `module.list` and `sessions.list` must show, and what revision a request must let the node reach first.
 * @module
 */

/** A variable as the model expects it. */
export interface ModelVariable {
  type: string;
  value: unknown;
  version: number;
  /** The record id, once a reply showed it (an import of a new name answers no id). */
  id: string | undefined;
  lockedBy: string | null;
}

/** What the nodes must hold, according to the replies so far. */
export interface FuzzModel {
  /** The session every variable and module request goes to. */
  readonly sid: string;
  /** Sessions the fuzzer opens and deletes, apart from {@link FuzzModel.sid}. */
  readonly scratchSessions: readonly string[];
  /** The highest variables-bucket revision a reply showed (sent as `Tether-Min-Revision`). */
  revision: number;
  /** Likewise for the modules bucket (`Tether-Min-Modules-Revision`). */
  modulesRevision: number;
  readonly variables: Map<string, ModelVariable>;
  readonly modules: Set<string>;
  readonly sessions: Set<string>;
  /** The incarnation each open session's last `open` answered. */
  readonly incarnations: Map<string, string>;
  /** Execution ids sent or answered, for `cancel` and `outcome` to name. */
  readonly executionIds: string[];
}

/** The variables defined before the run, one of each type, with constraints for the writes to run into. */
export const BASE_VARIABLES: readonly (readonly [string, string, unknown, Record<string, unknown>])[] = [
  ['f', 'float', 0.5, { min: 0, max: 2 }],
  ['i', 'integer', 3, { min: -100, max: 100 }],
  ['s', 'string', 'hello', { maxLength: 40 }],
  ['b', 'boolean', true, {}],
  ['c', 'choice', 'a', { choices: ['a', 'b', 'c'] }],
  ['j', 'json', { k: 1 }, {}],
  ['l', 'list', [1, 2], { itemType: 'integer', maxItems: 10 }],
  ['e', 'embedding', [0.1, 0.2, 0.3], { dimensions: 3 }],
  ['t', 'tensor', { shape: [2, 2], data: [1, 2, 3, 4] }, { shape: [2, 2] }],
  ['m', 'module', 'Predict', {}],
];

/** An empty model of session `sid` (open) with scratch sessions `sc-0`..`sc-2` (not open). */
export function createFuzzModel(sid = 'fz'): FuzzModel {
  return {
    sid,
    scratchSessions: ['sc-0', 'sc-1', 'sc-2'],
    revision: 0,
    modulesRevision: 0,
    variables: new Map(),
    modules: new Set(),
    sessions: new Set([sid]),
    incarnations: new Map(),
    executionIds: [],
  };
}

/** Raises the model's revisions to those a reply body shows (read-your-writes: later requests must see them). */
export function noteRevisions(model: FuzzModel, body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  const { revision, modulesRevision } = body as { revision?: unknown; modulesRevision?: unknown };
  if (typeof revision === 'number') model.revision = Math.max(model.revision, revision);
  if (typeof modulesRevision === 'number') model.modulesRevision = Math.max(model.modulesRevision, modulesRevision);
}

/** The headers a careful client sends: its revisions, so that a node behind it waits (and the model stays exact). */
export function standardHeaders(model: FuzzModel, module = false): [string, string][] {
  const h: [string, string][] = [['Tether-Min-Revision', String(model.revision)]];
  if (module) h.push(['Tether-Min-Modules-Revision', String(model.modulesRevision)]);
  return h;
}

/** The model's view of a variable from a record a node answered. */
export function variableOf(record: {
  type: string;
  value: unknown;
  version: number;
  id: string;
  lockedBy: string | null;
}): ModelVariable {
  return { type: record.type, value: record.value, version: record.version, id: record.id, lockedBy: record.lockedBy };
}

/** What a write of `value` to a variable of `type` stores, as a record encodes it (docs/protocol.md, by type). */
export function storedValue(type: string, value: unknown): unknown {
  if (type === 'boolean') {
    if (value === 'true' || value === 1) return true;
    if (value === 'false' || value === 0) return false;
  }
  if (type === 'float' && typeof value === 'number' && Object.is(value, -0)) return 0;
  if (type === 'tensor' && value && typeof value === 'object' && Array.isArray((value as { data?: unknown }).data)) {
    const tensor = value as { data: unknown[] };
    return { ...tensor, data: tensor.data.flat(Infinity) };
  }
  return value;
}
