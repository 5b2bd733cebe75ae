/**
 * Node B of the propagation bench (a): a node with the bench session open and a watcher on its variable, and the
 * raw baseline's `kv.watch` on the raw bucket. Both report each delivery with the time B saw it.
 *
 * Ours is stamped twice: when the session process's snapshot first holds the version (what a module sync on B
 * reads: reads take the process's committed variables, they never wait for watchers), seen by a subscription to the
 * process's actor as the floor's reader actor is seen, and when the `watchVariables` listener hears of it. Both
 * stamps go out in one message once the listener has run, so that sending the first does not delay the second. No
 * inspector: one costs every transition a copy of the session's variables, which a deployed node does not pay.
 * @module
 */
import { connect, KvWatchInclude } from 'nats';
import { Runtime } from '../../src/index.js';
import { startFloorReader } from '../actor-floor.js';
import type { PeerMain } from '../peer.js';
import { nodeOptions, text } from './config.js';

/**
 * Config: `url`, `variablesBucket`, `sessionsBucket`, `rawBucket`, `rawKey`, `floorBucket`, `sessionId`,
 * `variable`. The floor's reader actor watches `rawKey` in `floorBucket` and reports as `floor`.
 */
export const run: PeerMain = async (config, send) => {
  const str = (key: string): string => text(config, key);
  const node = await Runtime.start({ onError: () => {}, nats: nodeOptions(config, 'bench-node-b') });
  const session = await node.session(str('sessionId'));
  // A's definition may not have been routed here yet; the watcher must start from a known version.
  while (!(await session.hasVariable(str('variable')))) await new Promise((r) => setTimeout(r, 1));
  // The session's process by its documented name. It runs for the whole bench: a session with a watcher never
  // hibernates.
  const sessionProcess = node.whereis(`tether.session.${str('sessionId')}`);
  if (!sessionProcess) throw new Error(`node B runs no process of session '${str('sessionId')}'`);
  // The newest version the process's snapshot has held, and when it first did.
  let visible = { version: 0, at: 0n };
  const subscription = sessionProcess.actor.subscribe((snapshot) => {
    const version = versionIn(snapshot, str('variable'));
    if (version !== undefined && version > visible.version) visible = { version, at: process.hrtime.bigint() };
  });
  const unwatch = await session.watchVariables(str('variable'), (change) => {
    const toldAt = process.hrtime.bigint();
    // Not seen in a snapshot (the process was replaced, say): no stamp, and the bench says so.
    const at = visible.version === change.version ? visible.at : null;
    send({ kind: 'ours', version: change.version, at, toldAt });
  });

  const watcher = await connect({ servers: str('url'), name: 'bench-raw-watch', noAsyncTraces: true });
  const entries = await (
    await watcher.jetstream().views.kv(str('rawBucket'), { history: 64 })
  ).watch({ key: str('rawKey'), include: KvWatchInclude.UpdatesOnly });
  const pump = (async () => {
    for await (const entry of entries) send({ kind: 'raw', revision: entry.revision, at: process.hrtime.bigint() });
  })();
  const floor = startFloorReader((revision) => send({ kind: 'floor', revision, at: process.hrtime.bigint() }));
  const floorEntries = await (
    await watcher.jetstream().views.kv(str('floorBucket'), { history: 64 })
  ).watch({ key: str('rawKey'), include: KvWatchInclude.UpdatesOnly });
  const floorPump = (async () => {
    for await (const entry of floorEntries) floor.apply(entry.revision, entry.value);
  })();
  send({ kind: 'ready' });

  return async (message) => {
    if (message.kind !== 'stop') return;
    unwatch();
    subscription.unsubscribe();
    entries.stop();
    floorEntries.stop();
    await Promise.all([pump, floorPump]);
    floor.stop();
    await watcher.close();
    await node.stop();
  };
};

/** The version of `variable` in a session process's snapshot (its context keeps the variables in a map). */
function versionIn(snapshot: unknown, variable: string): number | undefined {
  const variables = (snapshot as { context?: { variables?: unknown } }).context?.variables;
  if (!(variables instanceof Map)) return undefined;
  return (variables.get(variable) as { version?: number } | undefined)?.version;
}
