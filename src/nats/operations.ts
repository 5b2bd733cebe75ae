/**
 * The operation names of the wire protocol: each becomes the last token of a request subject (see subjects.ts),
 * and which of them only read, so that a request whose reply was lost can say whether it may have changed anything.
 * @module
 */

/** Every variable operation with an endpoint. `updateVariable` is client-side compare-and-set over get + set. */
export const VARIABLE_OPERATIONS = [
  'define',
  'get',
  'describe',
  'has',
  'list',
  'getMany',
  'set',
  'delete',
  'setMany',
  'history',
  'rollback',
  'lock',
  'unlock',
  'export',
  'import',
] as const;

/** One of {@link VARIABLE_OPERATIONS}. */
export type VariableOperation = (typeof VARIABLE_OPERATIONS)[number];

/** Every module operation with an endpoint (`list` has its own subject: it names no module). */
export const MODULE_OPERATIONS = ['create', 'execute', 'describe', 'cancel', 'stop'] as const;

/** One of {@link MODULE_OPERATIONS}. */
export type ModuleOperation = (typeof MODULE_OPERATIONS)[number];

/** What node-to-node control messages ask of every node running a module. */
export type ModuleControlOperation = 'cancel' | 'stop';

/** The module operations a node passes on to the node that has a module whose spec is in no bucket. */
export const FORWARDED_OPERATIONS = ['execute', 'describe'] as const;

/** One of {@link FORWARDED_OPERATIONS}. */
export type ForwardedOperation = (typeof FORWARDED_OPERATIONS)[number];

/**
 * The variable operations that change nothing. Everything else may write (a session's `open` may create it), so a
 * request of it that got no reply may have been applied.
 */
export const VARIABLE_READS: ReadonlySet<VariableOperation> = new Set([
  'get',
  'describe',
  'has',
  'list',
  'getMany',
  'history',
  'export',
]);

/** The module requests that change nothing (`list` names no module but is one of them). */
export const MODULE_READS: ReadonlySet<ModuleOperation | 'list'> = new Set(['describe', 'list']);

const OPERATIONS = new Set<string>(VARIABLE_OPERATIONS);

/** True when `operation` names a variable endpoint. */
export function isVariableOperation(operation: string): operation is VariableOperation {
  return OPERATIONS.has(operation);
}
