/**
 * `tether serve`: runs a node until SIGINT or SIGTERM. Every node on one NATS with the same prefix and buckets
 * joins the same queue group, so starting more is how a deployment takes more load.
 * @module
 */
import { BridgeError, BucketConfigMismatchError, NatsConnectionError, ValidationError } from '../errors.js';
import { connectionNameFault } from '../nats/connection-name.js';
import { NODE_NAME_RULE, defaultBucketTooLong, isNodeName, sharedBucket } from '../nats/node-names.js';
import type { Runtime } from '../node/runtime.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import { EXIT, UnreachableError, UsageError, natsLost, tlsLine } from './cli-errors.js';
import { defineCommand, type CliIo, type CommandSpec } from './command.js';
import {
  CONNECT_TIMEOUT_MS,
  NATS_OPTIONS,
  natsPrefix,
  natsTarget,
  pingInterval,
  reconnectPolicy,
  reportTo,
} from './connection.js';
import { loadTools } from './serve-tools.js';
import { settlesWithin, untilSignal } from './until-signal.js';
import { parseCount, parseMs, parsePeriodMs } from './values.js';

/** How long a stopping node waits for requests in flight: under the 30 s stop_grace_period of docker-compose.yml. */
const DEFAULT_DRAIN_MS = 25_000;

/**
 * How long the rest of a stop may take once the drain ran out and the requests still in flight were ended: the
 * replies go out, sessions and processes stop, the connection closes. Added to a default drain, it still exits under
 * that grace period.
 */
const ENDING_MS = 2_000;

const serve = defineCommand({
  path: ['serve'],
  summary: 'run a node: sessions and modules served over NATS until Ctrl-C',
  details: [
    'The node keeps variables in the JetStream KV bucket --buckets names (created if missing) and answers on',
    "the 'tether' service in a queue group: start more nodes with the same options to share the load. The LLM",
    'comes from TETHER_AI* (the offline tether-echo model when unset). When NATS goes away the node says so on',
    'stderr and reconnects (TETHER_MAX_RECONNECTS attempts, default -1: for ever); if it gives up, exit 3.',
  ],
  args: [],
  options: {
    ...NATS_OPTIONS,
    buckets: {
      type: 'string',
      placeholder: '<vars,sessions[,modules]>',
      description:
        'the KV buckets of variables, sessions and module specs (default <prefix>_vars,<prefix>_sessions,' +
        "<prefix>_modules, the prefix's dots as _: tether_vars,... for the default prefix; with two names the" +
        ' modules bucket is still <prefix>_modules). Nodes of another prefix are another deployment: give them' +
        ' other buckets',
    },
    'drain-timeout': {
      type: 'string',
      placeholder: '<ms>',
      description:
        'how long a stop waits for requests in flight (executions too) before it ends them (each gets node_stopping,' +
        ' an execution is cancelled) and exits 1; keep it under the grace period of docker stop (default 25000)',
    },
    'unavailable-retry': {
      type: 'string',
      placeholder: '<ms>',
      description:
        'how long a read or write of a bucket retries while its stream has no JetStream leader (a cluster electing' +
        ' one) before it fails with store_unavailable; 0 fails at once (default 15000)',
    },
    'session-ttl': {
      type: 'string',
      placeholder: '<ms>',
      description:
        'a session no node used (read or wrote) for this long expires, 1.25 to 1.75 times this after its last use' +
        ' (for a TTL up to about 99 days): it is deleted with its variables and modules; give every node the same' +
        ' (default 3600000, an hour)',
    },
    'hibernate-after': {
      type: 'string',
      placeholder: '<ms>',
      description:
        'a session or module idle on this node for this long stops its process here; its variables stay and the next' +
        ' use wakes it (default the session TTL)',
    },
    'history-depth': {
      type: 'string',
      placeholder: '<n>',
      description:
        'writes kept per variable for history and rollback, 1 to 64 (default 64 for a new bucket; given, an existing' +
        ' variables bucket that keeps another number is refused)',
    },
    'max-record-bytes': {
      type: 'string',
      placeholder: '<n>',
      description:
        'the largest variable record a write may store, up to the default only (default (max_payload - 4 KiB) / 2' +
        " of the server's: 522240 for its default 1 MiB); give every node the same",
    },
    replicas: {
      type: 'string',
      placeholder: '<n>',
      description:
        'replicas of the buckets; 3 on a clustered JetStream (default 1 for new buckets; given, an existing bucket' +
        ' with other replicas is refused)',
    },
    queue: {
      type: 'string',
      placeholder: '<group>',
      description: 'the queue group nodes share requests in (default tether)',
    },
    name: {
      type: 'string',
      placeholder: '<name>',
      description:
        'the connection name the NATS monitoring shows (default tether-node; the inspect feed then names the node' +
        ' tether-node@<host>:<pid>, to tell unnamed nodes apart)',
    },
    tools: {
      type: 'string',
      placeholder: '<file>',
      description:
        'a .js module (.ts too from a checkout) exporting `tools` (an array of tools) that ReAct modules name',
    },
    inspect: {
      type: 'boolean',
      description:
        "publish every snapshot of this node's session and module processes on <prefix>.v1.inspect.> for live" +
        ' inspection (costs an encoding of the context per transition)',
    },
  },
  examples: [
    'tether serve --nats nats://127.0.0.1:4222',
    'NATS_URL=nats://nats-1:4222,nats://nats-2:4222 tether serve --replicas 3',
    "tether serve --inspect   # then: nats sub 'tether.v1.inspect.>'",
  ],
  async run({ values }, io) {
    const { servers, credentials } = natsTarget(values, io, this.path);
    const prefix = natsPrefix(values, io, this.path);
    const { variablesBucket, sessionsBucket, modulesBucket } =
      values.buckets === undefined ? {} : parseBuckets(values.buckets, this.path, prefix);
    const tooLong = defaultBucketTooLong({ prefix, variablesBucket, sessionsBucket, modulesBucket });
    if (tooLong)
      throw new UsageError(
        `${values.prefix === undefined ? 'TETHER_PREFIX' : '--prefix'} is too long for the default ` +
          `${BUCKET_ROLES[tooLong.option]} bucket, '<prefix>${tooLong.suffix}', which takes ${NODE_NAME_RULE}: ` +
          'give a shorter prefix, or name the buckets with --buckets',
        this.path,
      );
    if (values.queue !== undefined && !isNodeName(values.queue))
      throw new UsageError(
        `--queue '${values.queue.slice(0, 60)}' is no queue group name: use ${NODE_NAME_RULE}`,
        this.path,
      );
    // The node would refuse it too, but as a validation error (exit 1), after loading the tools and the provider.
    const nameFault = values.name === undefined ? undefined : connectionNameFault(values.name);
    if (nameFault) throw new UsageError(`--name ${nameFault.reason}`, this.path);
    const replicas =
      values.replicas === undefined ? undefined : parseCount(values.replicas, '--replicas', this.path, 1);
    const drainMs =
      values['drain-timeout'] === undefined
        ? DEFAULT_DRAIN_MS
        : parseMs(values['drain-timeout'], '--drain-timeout', this.path);
    // 0 is meaningful here (fail at once, no retry), unlike a timeout; the top is what a timer can wait.
    const unavailableRetryMs =
      values['unavailable-retry'] === undefined
        ? undefined
        : parseCount(values['unavailable-retry'], '--unavailable-retry', this.path, 0, MAX_TIMEOUT_MS);
    const sessionTtlMs =
      values['session-ttl'] === undefined
        ? undefined
        : parsePeriodMs(values['session-ttl'], '--session-ttl', this.path);
    const hibernateAfterMs =
      values['hibernate-after'] === undefined
        ? undefined
        : parsePeriodMs(values['hibernate-after'], '--hibernate-after', this.path);
    const historyDepth =
      values['history-depth'] === undefined
        ? undefined
        : parseCount(values['history-depth'], '--history-depth', this.path, 1, 64);
    // Its top depends on the server's max_payload: a value over it is refused once the node has connected (exit 1).
    const maxRecordBytes =
      values['max-record-bytes'] === undefined
        ? undefined
        : parseCount(values['max-record-bytes'], '--max-record-bytes', this.path, 1);
    const reconnect = reconnectPolicy(io, this.path);
    const ping = pingInterval(io, this.path);
    // Loaded here, not at the top: the runtime brings Ax, which no other command needs (see connection.ts).
    const { Runtime, languageModelFromEnv } = await import('../index.js');
    // Read once, before connecting: a misconfigured provider stops the node here with a validation error.
    const llm = languageModelFromEnv(io.env);
    const tools = values.tools === undefined ? undefined : await loadTools(values.tools, this.path);
    const report = reportTo(io);
    let gaveUp = false;
    let runtime: Awaited<ReturnType<typeof Runtime.start>>;
    try {
      runtime = await Runtime.start({
        llm,
        ...(tools === undefined ? {} : { tools }),
        ...(sessionTtlMs === undefined ? {} : { sessionTtlMs }),
        ...(hibernateAfterMs === undefined ? {} : { hibernateAfterMs }),
        nats: {
          servers,
          ...credentials,
          ...(prefix === undefined ? {} : { prefix }),
          ...(variablesBucket === undefined ? {} : { variablesBucket }),
          ...(sessionsBucket === undefined ? {} : { sessionsBucket }),
          ...(modulesBucket === undefined ? {} : { modulesBucket }),
          ...(replicas === undefined ? {} : { replicas }),
          ...(historyDepth === undefined ? {} : { historyDepth }),
          ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
          ...(unavailableRetryMs === undefined ? {} : { unavailableRetryMs }),
          ...(values.queue === undefined ? {} : { queue: values.queue }),
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values.inspect === true ? { inspect: true } : {}),
          reconnect,
          ...ping,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
        },
        onError: (error, where) => {
          // NATS gave up: said once, by the exit line below, rather than by this report as well.
          if (error instanceof NatsConnectionError && error.status === 'closed') gaveUp = true;
          if (!gaveUp) report(error, where);
        },
      });
    } catch (error) {
      // Bad options are the user's, and so is an option an existing bucket contradicts; anything else at start
      // (refused, no JetStream, a bucket it cannot create) means this NATS cannot host a node.
      if (error instanceof BucketConfigMismatchError) throw inFlagTerms(error);
      if (error instanceof ValidationError) throw recordLimitInFlagTerms(error);
      if (!(error instanceof BridgeError)) throw error;
      const why = tlsLine(error) ?? error.message;
      throw new UnreachableError(`cannot start a node on NATS at ${servers.join(',')}: ${why}`, {
        cause: error,
      });
    }
    const model = llm.offline
      ? `${llm.provider} (offline)`
      : `${llm.provider}${llm.defaultModel ? `/${llm.defaultModel}` : ''}`;
    // The node's service id is what `$SRV.PING.tether` answers and what a client's node_lost names: printed here,
    // it is how an operator finds the node an error is about.
    const node = `node ${runtime.nodeId ?? '?'}, name ${values.name ?? 'tether-node'}`;
    // Listened for before the line that says the node serves: a signal sent on reading it finds its handler in place
    // (without one, Node dies of it at once, with no stop and no word).
    const wait = untilSignal(runtime.connectionLost);
    try {
      io.out(
        `tether: node serving on ${servers.join(',')} (${node}, prefix ${prefix ?? 'tether'}, model ${model}); ` +
          'Ctrl-C stops it',
      );
      const signal = await wait.stopped;
      if (signal === 'lost') {
        // The one line this ends with says it all: what fails from now on fails because NATS is gone.
        gaveUp = true;
        // Nothing can reach this node any more; stop what runs here (bounded) and say so with exit code 3.
        await settlesWithin(
          runtime.stop().catch(() => {}),
          drainMs,
        );
        throw natsLost();
      }
      return await stopDraining(runtime, signal, drainMs, io);
    } finally {
      wait.release();
    }
  },
});

/**
 * Stops a node that `signal` asked to stop, waiting at most `drainMs` for the requests in flight; then each still
 * running gets its `node_stopping` reply. Resolves to the command's exit code: `error` when the drain ran out.
 */
async function stopDraining(
  runtime: Pick<Runtime, 'stop' | 'endRequests'>,
  signal: string,
  drainMs: number,
  io: CliIo,
): Promise<number> {
  const stopping = runtime.stop();
  if (!(await settlesWithin(stopping, drainMs))) {
    // Each gets a node_stopping reply now, and its execution is cancelled (its LLM call dropped), rather than its
    // caller hearing nothing until it takes this node for lost.
    let ended: number | undefined;
    const ending = runtime.endRequests(`drain timeout of ${drainMs} ms ran out`).then((count) => void (ended = count));
    await settlesWithin(
      ending.then(() => stopping),
      ENDING_MS,
    );
    // Said once the count is known: a stop held up by something else (a server that stopped answering) had no
    // request to end. Unknown, their replies are still going out.
    const what =
      ended === 0
        ? 'no request was in flight'
        : `ending ${ended ?? 'the'} request${ended === 1 ? '' : 's'} still in flight`;
    io.err(`tether: drain_timeout: node stopped (${signal}) after --drain-timeout ${drainMs} ms, ${what}`);
    return EXIT.error;
  }
  io.out(`tether: node stopped (${signal})`);
  return EXIT.ok;
}

/** The flags that give a node's bucket settings. */
const SETTING_FLAGS: Readonly<Record<string, string>> = {
  historyDepth: '--history-depth',
  replicas: '--replicas',
};

/** A refusal of a setting the command line gave, naming its flag rather than the runtime's option. */
function inFlagTerms(error: BucketConfigMismatchError): BucketConfigMismatchError {
  const option = SETTING_FLAGS[error.setting];
  if (option === undefined) return error;
  const { bucket, setting, configured, actual } = error;
  return new BucketConfigMismatchError(bucket, setting, configured, actual, { cause: error, details: { option } });
}

/**
 * The node's refusal of a `--max-record-bytes` over what the server's `max_payload` allows, naming the flag rather
 * than the runtime's `maxRecordBytes` (which the command line does not have), and the top as `--help` states it. Any
 * other error is returned as it is.
 */
function recordLimitInFlagTerms(error: ValidationError): ValidationError {
  const { constraint, maxRecordBytes, most, maxPayload } = error.details;
  if (constraint !== 'maxRecordBytes' || typeof most !== 'number') return error;
  return new ValidationError(
    `--max-record-bytes must be a whole number from 1 to ${most} ((max_payload - 4 KiB) / 2, with the server's ` +
      `max_payload of ${String(maxPayload)} bytes), got ${String(maxRecordBytes)}`,
    { cause: error, details: { ...error.details, option: '--max-record-bytes' } },
  );
}

/** What `--buckets` calls each bucket option. */
const BUCKET_ROLES: Readonly<Record<string, string>> = {
  variablesBucket: 'vars',
  sessionsBucket: 'sessions',
  modulesBucket: 'modules',
};

/**
 * `--buckets vars,sessions[,modules]` of a node of `prefix`. The modules bucket is the third name; with two it stays
 * the prefix's default, `<prefix>_modules` (nothing is derived from the other names), which the option's help says.
 */
export function parseBuckets(
  text: string,
  command: readonly string[],
  prefix?: string,
): { variablesBucket: string; sessionsBucket: string; modulesBucket?: string } {
  const names = text.split(',').map((name) => name.trim());
  const [variablesBucket, sessionsBucket, modulesBucket] = names;
  if (names.length < 2 || names.length > 3 || names.some((name) => name === '') || !variablesBucket || !sessionsBucket)
    throw new UsageError(`--buckets takes vars,sessions or vars,sessions,modules, got '${text}'`, command);
  const bad = names.find((name) => !isNodeName(name));
  if (bad !== undefined)
    throw new UsageError(`--buckets names a bucket '${bad.slice(0, 60)}': use ${NODE_NAME_RULE}`, command);
  const buckets = { variablesBucket, sessionsBucket, ...(modulesBucket === undefined ? {} : { modulesBucket }) };
  const shared = sharedBucket({ prefix, ...buckets });
  if (shared)
    throw new UsageError(
      `--buckets uses bucket '${shared.bucket}' for both ${BUCKET_ROLES[shared.first]} and ` +
        `${BUCKET_ROLES[shared.second]}: each needs a bucket of its own`,
      command,
    );
  return buckets;
}

/** The `serve` command. */
export const SERVE_COMMANDS: readonly CommandSpec[] = [serve];
