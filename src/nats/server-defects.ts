/**
 * A defect of the NATS server that Tether cannot work around, and the check a node makes for it at start.
 *
 * nats-server before 2.10.19: a server that restarts applies again the writes its copy of a stream had not yet
 * marked applied, and a compare-and-set write among them whose expected message was removed meanwhile fails
 * there, though it was stored on the other copies (the message "not found" counts as a failed write,
 * nats-server#5205, fixed by #5821 in 2.10.19). From then on that copy is out of step: it numbers every later
 * write differently from the others. Compare-and-set is how every Tether write goes, and the expected message is
 * removed by the key's next write in a bucket that keeps one write per key (the sessions and modules buckets), by
 * the history limit of a key written often, and by the deletion of a session's purge markers. In a reproduction with
 * nats-server 2.9.10 and nats.js alone (3 replicas, 12 writers making compare-and-set writes to 50 keys, a
 * follower killed and restarted), the restarted copy came back numbering writes 44 to 95 apart from the others in
 * every run when keys kept 1 or 2 writes; keeping 8, they agreed. A copy that differs shows nothing until it leads
 * the stream.
 * @module
 */
import { NatsServerDefectError } from '../errors.js';

/** The first nats-server release with the fix (nats-server#5821). */
export const REPLICA_DEFECT_FIXED_IN = '2.10.19';

const DEFECT =
  'a server that restarts while compare-and-set writes race can come back with a copy of a replicated bucket ' +
  "whose revisions no longer match the other copies' (nats-server#5205)";

/** `major.minor.patch` of a version string (a pre-release suffix ignored), or `undefined` when it has none. */
function parts(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/**
 * Whether a server of `version` has the replica defect (see the module comment). A version that cannot be read is
 * not taken for one that has it.
 */
export function hasReplicaDefect(version: string | undefined): boolean {
  const found = version === undefined ? undefined : parts(version);
  const fixed = parts(REPLICA_DEFECT_FIXED_IN)!;
  if (!found) return false;
  for (let i = 0; i < 3; i += 1) if (found[i] !== fixed[i]) return found[i]! < fixed[i]!;
  return false;
}

/**
 * Tells `report` once, with a {@link NatsServerDefectError}, when a server of `version` (the one the node reached;
 * the cluster's other members may run others) has the replica defect and any of `buckets` runs more than one
 * replica.
 */
export function reportServerDefects(
  version: string | undefined,
  buckets: readonly { readonly name: string; readonly replicas: number }[],
  report: (error: unknown, where: string) => void,
): void {
  if (version === undefined || !hasReplicaDefect(version)) return;
  const replicated = buckets.filter((bucket) => bucket.replicas > 1).map((bucket) => bucket.name);
  if (replicated.length > 0)
    report(new NatsServerDefectError(version, replicated, REPLICA_DEFECT_FIXED_IN, DEFECT), 'nats server');
}
