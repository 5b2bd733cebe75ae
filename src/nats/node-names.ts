/**
 * The names a node is given for its buckets and its queue group, checked before it connects. nats.js takes only
 * letters, digits, `_` and `-` in either; left to it, a bad bucket name was refused only when that bucket came to be
 * opened, after the buckets before it were created, and a bad queue group when the service subscribed, as an error
 * that read as an internal one.
 * @module
 */
import { ValidationError } from '../errors.js';
import { DEFAULT_PREFIX, createSubjects } from './subjects.js';

/** The buckets of a node, by option. */
export interface BucketNames {
  readonly variablesBucket: string;
  readonly sessionsBucket: string;
  readonly modulesBucket: string;
}

/**
 * The buckets a node of subject prefix `prefix` opens when its options name none: `<prefix>_vars`,
 * `<prefix>_sessions` and `<prefix>_modules`, the prefix's dots written `_` (`tether_vars`... for the default
 * prefix). Nodes of another prefix are another deployment: on the same buckets, a node of one would expire and
 * delete the other's sessions without its nodes hearing of it (a node tells the others on its own prefix), and
 * serve them on as if they were there.
 */
export function defaultBuckets(prefix: string = DEFAULT_PREFIX): BucketNames {
  const stem = prefix.replaceAll('.', '_');
  return { variablesBucket: `${stem}_vars`, sessionsBucket: `${stem}_sessions`, modulesBucket: `${stem}_modules` };
}

/** What nats.js accepts as a KV bucket's or a queue group's name. */
const NAME = /^[-\w]+$/;

/**
 * The longest name: a bucket's stream is `KV_<name>`, and the server refuses a stream name over 255 characters (as
 * an error that read as an internal one; a far longer one dropped the connection).
 */
export const MAX_NODE_NAME_LENGTH = 252;

/** What a bad name is told it must be. */
export const NODE_NAME_RULE = `1 to ${MAX_NODE_NAME_LENGTH} letters, digits, '_' and '-'`;

/** Whether `name` can name a node's bucket or queue group. */
export function isNodeName(name: string): boolean {
  return name.length <= MAX_NODE_NAME_LENGTH && NAME.test(name);
}

/** The node options that name something on the server; `prefix` gives the buckets' defaults. */
export interface NodeNames {
  readonly prefix?: string | undefined;
  readonly variablesBucket?: string | undefined;
  readonly sessionsBucket?: string | undefined;
  readonly modulesBucket?: string | undefined;
  readonly queue?: string | undefined;
}

/** The buckets `names` give a node: those it names, the defaults of its prefix for the others. */
export function bucketsOf(names: NodeNames): BucketNames {
  const defaults = defaultBuckets(names.prefix);
  return {
    variablesBucket: names.variablesBucket ?? defaults.variablesBucket,
    sessionsBucket: names.sessionsBucket ?? defaults.sessionsBucket,
    modulesBucket: names.modulesBucket ?? defaults.modulesBucket,
  };
}

/**
 * Two bucket options that name one bucket, their defaults applied (`variablesBucket: 'tether_sessions'` alone
 * names the sessions bucket); `undefined` when each bucket has its own name. One bucket for two uses mixes their
 * keys: a variable's record read as a module's spec, a module's stop deleting a variable.
 */
export function sharedBucket(names: NodeNames): { first: string; second: string; bucket: string } | undefined {
  const options = ['variablesBucket', 'sessionsBucket', 'modulesBucket'] as const;
  const buckets = bucketsOf(names);
  const bucketOf = (option: (typeof options)[number]): string => buckets[option];
  for (const [i, first] of options.entries())
    for (const second of options.slice(i + 1))
      if (bucketOf(first) === bucketOf(second)) return { first, second, bucket: bucketOf(first) };
  return undefined;
}

/**
 * The first bucket no option names whose default name, made of the prefix, is too long for a bucket (`<prefix>` and
 * `suffix`); `undefined` when there is none. A prefix may be a long subject prefix, but `_sessions` is added to it.
 */
export function defaultBucketTooLong(names: NodeNames): { option: keyof BucketNames; suffix: string } | undefined {
  const defaults = defaultBuckets(names.prefix);
  const stemLength = (names.prefix ?? DEFAULT_PREFIX).length;
  for (const option of ['variablesBucket', 'sessionsBucket', 'modulesBucket'] as const)
    if (names[option] === undefined && !isNodeName(defaults[option]))
      return { option, suffix: defaults[option].slice(stemLength) };
  return undefined;
}

/**
 * @throws {ValidationError} for a prefix that is not dot-separated tokens of letters, digits, `_` and `-`, naming the
 * first option that is not a string of letters, digits, `_` and `-`, the prefix when a bucket's default name made of
 * it is too long (see {@link defaultBucketTooLong}), or the two bucket options that name the same bucket (see
 * {@link sharedBucket})
 */
export function assertNodeNames(names: NodeNames): void {
  // First: the buckets' defaults are made of it.
  if (names.prefix !== undefined) createSubjects(names.prefix);
  for (const option of ['variablesBucket', 'sessionsBucket', 'modulesBucket', 'queue'] as const) {
    const name: unknown = names[option];
    if (name === undefined || (typeof name === 'string' && isNodeName(name))) continue;
    throw new ValidationError(
      `${option} must be a name of ${NODE_NAME_RULE}, got ${JSON.stringify(String(name).slice(0, 60))}`,
      { details: { option, constraint: 'name' } },
    );
  }
  const tooLong = defaultBucketTooLong(names);
  if (tooLong)
    throw new ValidationError(
      `prefix is too long for the default ${tooLong.option}, '<prefix>${tooLong.suffix}', which takes ` +
        `${NODE_NAME_RULE}: give a shorter prefix, or name that bucket`,
      { details: { option: 'prefix', constraint: 'name', bucketOption: tooLong.option } },
    );
  const shared = sharedBucket(names);
  if (shared)
    throw new ValidationError(
      `${shared.first} and ${shared.second} both name bucket '${shared.bucket}': each needs a bucket of its own`,
      { details: { option: shared.second, constraint: 'distinct', bucket: shared.bucket } },
    );
}
