/**
 * The names a node is given for its buckets and its queue group, checked before it connects. nats.js takes only
 * letters, digits, `_` and `-` in either; left to it, a bad bucket name was refused only when that bucket came to be
 * opened, after the buckets before it were created, and a bad queue group when the service subscribed, as an error
 * that read as an internal one.
 * @module
 */
import { ValidationError } from '../errors.js';

/** The buckets a node opens when its options name none. */
export const DEFAULT_BUCKETS = {
  variablesBucket: 'tether_vars',
  sessionsBucket: 'tether_sessions',
  modulesBucket: 'tether_modules',
} as const;

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
 * Two bucket options that name one bucket, their defaults applied (`variablesBucket: 'tether_sessions'` alone
 * names the sessions bucket); `undefined` when each bucket has its own name. One bucket for two uses mixes their
 * keys: a variable's record read as a module's spec, a module's stop deleting a variable.
 */
export function sharedBucket(names: NodeNames): { first: string; second: string; bucket: string } | undefined {
  const options = ['variablesBucket', 'sessionsBucket', 'modulesBucket'] as const;
  const bucketOf = (option: (typeof options)[number]): string => names[option] ?? DEFAULT_BUCKETS[option];
  for (const [i, first] of options.entries())
    for (const second of options.slice(i + 1))
      if (bucketOf(first) === bucketOf(second)) return { first, second, bucket: bucketOf(first) };
  return undefined;
}

/**
 * @throws {ValidationError} naming the first option that is not a string of letters, digits, `_` and `-`, or the
 * two bucket options that name the same bucket (see {@link sharedBucket})
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
  const shared = sharedBucket(names);
  if (shared)
    throw new ValidationError(
      `${shared.first} and ${shared.second} both name bucket '${shared.bucket}': each needs a bucket of its own`,
      { details: { option: shared.second, constraint: 'distinct', bucket: shared.bucket } },
    );
}
