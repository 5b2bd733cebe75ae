/**
 * A bench peer's own process: runs `bench/peers/<argv[2]>.ts` with the configuration in `TETHER_BENCH_PEER`,
 * sending its reports to the bench over IPC; exits after the bench's `stop`, or when the bench is gone (its
 * NATS connections would otherwise keep it running, and holding the bench's output pipe, for ever).
 * @module
 */
import type { PeerMain, PeerMessage } from '../peer.js';

process.once('disconnect', () => process.exit(0));
const name = process.argv[2] ?? '';
const config = JSON.parse(process.env.TETHER_BENCH_PEER ?? '{}') as Record<string, unknown>;
const { run } = (await import(`./${name}.js`)) as { run: PeerMain };
const receive = await run(config, (message) => void process.send?.(message));
process.on('message', (message: PeerMessage) => {
  void Promise.resolve(receive(message)).then(() => {
    if (message.kind === 'stop') process.disconnect();
  });
});
