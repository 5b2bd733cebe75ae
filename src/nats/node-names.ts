/**
 * The names a node is given for its buckets and its queue group, checked before it connects. nats.js takes only
 * letters, digits, `_` and `-` in either; left to it, a bad bucket name was refused only when that bucket came to be
 * opened, after the buckets before it were created, and a bad queue group when the service subscribed, as an error
 * that read as an internal one.
 * @module
 */
import { ValidationError } from '../errors.js';

/** What nats.js accepts as a KV bucket's or a queue group's name. */
const NAME = /^[-\w]+$/;

/** Whether `name` can name a node's bucket or queue group. */
export function isNodeName(name: string): boolean {
  return NAME.test(name);
}

/** The node options that name something on the server. */
export interface NodeNames {
  readonly variablesBucket?: string | undefined;
  readonly sessionsBucket?: string | undefined;
  readonly modulesBucket?: string | undefined;
  readonly queue?: string | undefined;
}

/**
 * @throws {ValidationError} naming the first option that is not a string of letters, digits, `_` and `-`
 */
export function assertNodeNames(names: NodeNames): void {
  for (const option of ['variablesBucket', 'sessionsBucket', 'modulesBucket', 'queue'] as const) {
    const name: unknown = names[option];
    if (name === undefined || (typeof name === 'string' && isNodeName(name))) continue;
    throw new ValidationError(
      `${option} must be a name of letters, digits, '_' and '-', got ${JSON.stringify(String(name))}`,
      { details: { option, constraint: 'name' } },
    );
  }
}
