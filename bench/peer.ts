/**
 * The far side of a NATS benchmark: a node B, or a node serving a client's requests, together with the raw
 * baseline's counterpart (the raw watcher, the raw responder). It runs in a process of its own, as it would in a
 * deployment, or in the bench's own process; either way ours and the raw baseline share one topology.
 *
 * A peer is a module under `bench/peers/` exporting `run(config, send)`. It reports by `send` (times stamped with
 * `process.hrtime.bigint()`, a monotonic clock every process on the machine shares) and is told by `receive`.
 * @module
 */
import { fork } from 'node:child_process';
import { benchScript, loaderArgs } from './own-build.js';

/** A message between the bench and a peer: `kind` says which. */
export interface PeerMessage {
  readonly kind: string;
  readonly [field: string]: unknown;
}

/** What a peer module exports. `send` reports to the bench; the returned function handles the bench's messages. */
export type PeerMain = (
  config: Readonly<Record<string, unknown>>,
  send: (message: PeerMessage) => void,
) => Promise<(message: PeerMessage) => Promise<void> | void>;

/** Where the peer runs: `process` (a child process, as deployed) or `inline` (this process, one thread for all). */
export type PeerPlacement = 'process' | 'inline';

/** A started peer. */
export interface Peer {
  /**
   * Resolves with the next message of `kind` that `accept` takes; messages nobody waits for are dropped, so
   * call it before whatever makes the peer answer. Rejects if none comes within {@link ANSWER_TIMEOUT_MS} or
   * the peer's process ends first.
   */
  next(kind: string, accept?: (message: PeerMessage) => boolean): Promise<PeerMessage>;
  send(message: PeerMessage): void;
  /** Tells the peer to stop and waits until it has (a peer process that does not exit in time is killed). */
  stop(): Promise<void>;
}

/** How long a bench waits for one answer of its peer before it fails instead of hanging. */
const ANSWER_TIMEOUT_MS = 30_000;

/** Starts the peer module `name` (a file in `bench/peers/`) with `config`; resolves once it sent `ready`. */
export async function startPeer(
  name: string,
  config: Readonly<Record<string, unknown>>,
  placement: PeerPlacement,
): Promise<Peer> {
  let waiting:
    | {
        kind: string;
        accept: (m: PeerMessage) => boolean;
        resolve: (m: PeerMessage) => void;
        fail: (e: Error) => void;
        drop: () => void;
      }
    | undefined;
  let ended: Error | undefined;
  const deliver = (message: PeerMessage): void => {
    if (!waiting || waiting.kind !== message.kind || !waiting.accept(message)) return;
    const { resolve } = waiting;
    waiting = undefined;
    resolve(message);
  };
  const end = (error: Error): void => {
    ended = error;
    waiting?.fail(error);
    waiting = undefined;
  };
  const next = (kind: string, accept: (m: PeerMessage) => boolean = () => true): Promise<PeerMessage> => {
    const answer = new Promise<PeerMessage>((resolve, reject) => {
      if (ended) return reject(ended);
      // A wait taken over by a newer one (its operation threw before the peer answered) keeps no timer running.
      waiting?.drop();
      const timer = setTimeout(
        () => end(new Error(`bench peer '${name}' sent no '${kind}' within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      const settle = (): void => clearTimeout(timer);
      waiting = {
        kind,
        accept,
        resolve: (message) => (settle(), resolve(message)),
        fail: (error) => (settle(), reject(error)),
        drop: settle,
      };
    });
    // Handled here too: when the bench's own operation fails before awaiting the answer, the peer stopping must not
    // end the run on an unhandled rejection that hides that operation's error.
    answer.catch(() => {});
    return answer;
  };

  if (placement === 'inline') {
    const { run } = (await import(`./peers/${name}.js`)) as { run: PeerMain };
    const ready = next('ready');
    const receive = await run(config, deliver);
    await ready;
    return {
      next,
      send: (message) => void receive(message),
      stop: async () => void (await receive({ kind: 'stop' })),
    };
  }

  // `advanced` serialization carries the bigint timestamps as they are.
  const child = fork(benchScript('peers/entry'), [name], {
    execArgv: [...loaderArgs],
    env: { ...process.env, TETHER_BENCH_PEER: JSON.stringify(config) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      end(new Error(`bench peer '${name}' exited (code ${code})`));
      resolve();
    }),
  );
  child.on('message', (message) => deliver(message as PeerMessage));
  try {
    await next('ready');
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    next,
    send: (message) => void child.send(message),
    async stop() {
      if (child.connected) child.send({ kind: 'stop' });
      const timer = setTimeout(() => child.kill(), ANSWER_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
