/**
 * Node B of the propagation bench (a): a node with the bench session open and a watcher on its variable, and the
 * raw baseline's `kv.watch` on the raw bucket. Both report each delivery with the time B saw it.
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
  const unwatch = await session.watchVariables(str('variable'), (change) =>
    send({ kind: 'ours', version: change.version, at: process.hrtime.bigint() }),
  );

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
    entries.stop();
    floorEntries.stop();
    await Promise.all([pump, floorPump]);
    floor.stop();
    await watcher.close();
    await node.stop();
  };
};
