/**
 * The options of a node's NATS side (`Runtime.start({ nats })`, `tether serve`): where it connects, the names of
 * what it creates there, and the limits it keeps.
 * @module
 */
import { ValidationError } from '../errors.js';
import { kindOf } from '../variables/failure.js';
import { optionKeys } from '../option-keys.js';
import type { ReconnectPolicy } from './connection-options.js';
import type { ExecutionReplyLimits } from './execution-replies.js';
import type { NatsTlsFiles } from './tls-files.js';

/** How a node reaches NATS and names what it creates there. */
export interface NatsNodeOptions {
  /** One or more NATS URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /**
   * The connection's name, as the server's monitoring shows it: not empty, one line without control characters, at
   * most 1024 bytes as JSON. @default 'tether-node'
   */
  readonly name?: string;
  /** Subject prefix; the buckets left unnamed are named after it. @default 'tether' */
  readonly prefix?: string;
  /**
   * The queue group the service's endpoints join; nodes sharing it share the load. Every node of one prefix must
   * share it: NATS hands each request to one member of every group, so nodes in two groups would each run it. It and
   * the bucket names take 1 to 252 letters, digits, `_` and `-` (anything else is a `ValidationError` before the node
   * connects).
   * @default 'tether'
   */
  readonly queue?: string;
  /** @default `<prefix>_vars`, the prefix's dots written `_` (`tether_vars` for the default prefix) */
  readonly variablesBucket?: string;
  /** @default `<prefix>_sessions` (`tether_sessions` for the default prefix) */
  readonly sessionsBucket?: string;
  /** Module specs, so any node can wake any module. @default `<prefix>_modules` (`tether_modules`...) */
  readonly modulesBucket?: string;
  /**
   * Replicas of the buckets (a clustered JetStream can keep 3; 1 to 5). Given, it is also required of buckets
   * that exist already: one with other replicas fails the start with `BucketConfigMismatchError` and is left
   * unchanged. Left out, existing buckets are taken as they are.
   * @default 1 for new buckets
   */
  readonly replicas?: number;
  /**
   * Writes kept per variable for history and rollback (1 to 64). Given, an existing variables bucket that keeps
   * another number fails the start with `BucketConfigMismatchError` and is left unchanged; left out, it is taken
   * as it is.
   * @default 64 for a new bucket
   */
  readonly historyDepth?: number;
  /**
   * Largest encoded variable record a write may store on this node: a whole number from 1 to the default (a larger
   * one is a `ValidationError` at start, before any bucket is created). A bigger write is refused with
   * `validation_failed`, so that every accepted change's event (old and new value in one message) fits in the
   * server's `max_payload`. A delete's `updatedBy` (as its marker's header encodes it) has the same limit, its event
   * carrying it with the old value. Give every node of a bucket the same value. A variables bucket made with a max
   * value size lowers it to that size less room for a lock owner, headers and a batch's mark (see
   * `RECORD_ROOM_BYTES` in bucket-value-room.ts).
   * @default (server max_payload − 4 KiB) / 2
   */
  readonly maxRecordBytes?: number;
  /**
   * How long a read or write of a bucket waits while no leader of the bucket's stream answers (a NATS cluster
   * electing one, or the connection down), retrying, before it fails with `StoreUnavailableError` naming the bucket
   * and key. A write is retried only where it cannot be applied twice. Elections took 4 to 8 s on nats-server 2.9.10
   * here and up to 15 s are reported; 0 fails at once. The node's start waits as long for each bucket it opens and
   * each watch it starts (operation `open`, `watch`). A session write on this node waits this much longer than
   * `callTimeoutMs` for its reply; a remote client that should ride through an election too needs a `timeoutMs`
   * as long.
   * @default 15000
   */
  readonly unavailableRetryMs?: number;
  /** How the node retries when NATS goes away; a node should outlive a NATS restart. @default for ever, every 2 s */
  readonly reconnect?: ReconnectPolicy;
  /**
   * How long each attempt to connect may take: past it, a start fails with `NatsConnectionError` (`unreachable`) on
   * a server that takes the TCP connection and never answers, and a reconnect tries again.
   * @default 20000 (nats.js's)
   */
  readonly connectTimeoutMs?: number;
  /**
   * How often the node pings its server, to notice one gone silent with the connection left open: 2 to 3 intervals
   * later it drops the connection and reconnects. @default 120000 (nats.js's)
   */
  readonly pingIntervalMs?: number;
  /** TLS files: a private CA's certificate, a client certificate and its key ({@link NatsTlsFiles}). */
  readonly tls?: NatsTlsFiles;
  /**
   * Publishes every snapshot of this node's session and module processes on `<prefix>.v1.inspect.>`, for
   * inspection tools (see inspection.ts). Each transition then costs the JSON encoding of the snapshot published
   * (a context over max_payload is measured, not encoded, and goes out truncated). @default false
   */
  readonly inspect?: boolean;
  /**
   * How many replies of finished executions the node keeps, and how long, for remote clients whose connection
   * dropped as their reply went out: they ask the node for it once they are back (see execution-replies.ts).
   * @default the last 4096, for 2 minutes, at most 32 MiB
   */
  readonly executionReplies?: ExecutionReplyLimits;
}

/** The keys {@link NatsNodeOptions} takes; any other is refused. */
export const NATS_NODE_KEYS = optionKeys<NatsNodeOptions>({
  servers: true,
  user: true,
  pass: true,
  token: true,
  name: true,
  prefix: true,
  queue: true,
  variablesBucket: true,
  sessionsBucket: true,
  modulesBucket: true,
  replicas: true,
  historyDepth: true,
  maxRecordBytes: true,
  unavailableRetryMs: true,
  reconnect: true,
  connectTimeoutMs: true,
  pingIntervalMs: true,
  tls: true,
  inspect: true,
  executionReplies: true,
});

/**
 * Throws `ValidationError` unless `inspect`, when given, is `true` or `false` (`null` is absent, as for the
 * runtime's own `inspect`): the text `"false"` an environment variable or a config file gives would otherwise have
 * turned publishing on.
 */
export function assertInspectFlag(inspect: unknown): void {
  if (inspect === undefined || inspect === null || typeof inspect === 'boolean') return;
  const got = kindOf(inspect);
  throw new ValidationError(`nats option 'inspect' must be a boolean, got ${got}`, {
    details: { option: 'inspect', expected: 'a boolean', got },
  });
}
