/**
 * A session directory and a removal over a test's buckets, as a node builds them, without a node: a test drives the
 * scan, the stamps or the removal itself (see src/nats/session-expiry.ts).
 * @module
 */
import type { NatsConnection } from 'nats';
import { createKvStore } from '../../src/nats/kv-store.js';
import { createSessionDirectory } from '../../src/nats/session-directory.js';
import { createSessionRemoval, type SessionRemovalDeps } from '../../src/nats/session-removal.js';
import type { TestBuckets } from './tether-node.js';

/**
 * The directory and the removal over `buckets` on `connection`; `close` closes the stores it opened. Each call has a
 * directory of its own: what a node that just started knows (nothing of the server's clock, say). Its removal tells no
 * node of a deletion unless `options.control` is given.
 */
export async function directoryAndRemoval(
  connection: NatsConnection,
  buckets: TestBuckets,
  options: Pick<SessionRemovalDeps, 'announce' | 'recheckMs'> & Partial<Pick<SessionRemovalDeps, 'control'>> = {},
) {
  const directory = await createSessionDirectory(connection, { bucket: buckets.sessionsBucket });
  const [variables, specs] = await Promise.all(
    [buckets.variablesBucket, buckets.modulesBucket].map((bucket) => createKvStore<unknown>(connection, { bucket })),
  );
  const removal = createSessionRemoval({
    connection,
    directory,
    variables: variables!,
    variablesBucket: buckets.variablesBucket,
    specs: specs!,
    modulesBucket: buckets.modulesBucket,
    ...options,
    // None by default: a test that tells no node.
    control: options.control ?? (() => undefined),
  });
  return { directory, removal, close: () => Promise.all([variables!.close(), specs!.close()]) };
}
