/**
 * The options of `Runtime.start`, and their check before anything starts.
 * @module
 */
import { ValidationError } from '../errors.js';
import { assertLanguageModel } from '../modules/ax-bridge.js';
import type { LanguageModel } from '../modules/language-model.js';
import type { ModuleTool } from '../modules/module-types.js';
import type { NatsNodeOptions } from '../nats/nats-node.js';
import { durationMs } from '../runtime/duration-ms.js';
import { assertFunctionOption, assertInspectOption, assertOptionKeys, optionKeys } from '../option-keys.js';
import type { ProcessRuntimeOptions } from '../runtime/process-runtime-options.js';
import type { Store } from '../store/store.js';
import { show } from '../variables/failure.js';
import type { VariableRecord } from '../variables/types.js';

/** Options of {@link Runtime.start}. */
export interface RuntimeOptions {
  /** Where variables live. @default a new in-memory store, closed with the runtime */
  readonly store?: Store<VariableRecord>;
  /**
   * A session expires after this long without a read or a write (watches do not count): it is deleted, as by
   * `session.delete()` (its variables with their history, its modules; its handles get `session_expired`, its
   * watchers are dropped). On a NATS node that takes this long without use on every node: nodes note each
   * session's last use in its record (at most once a quarter of this, or of 2^31-1 ms, per session and node) and
   * any node expires it, between 1.25 and 1.75 times this after its last use (a TTL up to about 99 days; past that,
   * sooner; see src/nats/session-expiry.ts). `Infinity`: never.
   * @default 3_600_000
   */
  readonly sessionTtlMs?: number;
  /**
   * On a NATS node, a session with no read or write here for this long hibernates here: its process stops, its
   * variables stay, and the next use wakes it (not while it has a `watchVariables` listener on this node: that
   * listener hears other nodes' writes through the session's process). A module with nothing to do for this long
   * (or when its session hibernates here) hibernates too, on any runtime: its process stops, its handle and
   * listeners stay, and the next use wakes it as it was. `Infinity`: never. @default `sessionTtlMs`
   */
  readonly hibernateAfterMs?: number;
  /**
   * How long a session operation waits for its process. On a NATS node a write waits `nats.unavailableRetryMs`
   * longer: its commit may be riding through a leader election of the variables bucket. `Infinity`: for ever.
   * @default 5000
   */
  readonly callTimeoutMs?: number;
  /**
   * How long `module.execute()` waits, queue time included, when its call gives no `timeoutMs`. `Infinity`: for ever
   * (a request passed on to another node, which takes at most 2^31-1 ms, waits that long). @default 120_000
   */
  readonly executionTimeoutMs?: number;
  /**
   * The LLM of every module. By default the one the environment configures (`TETHER_AI`, `TETHER_AI_URL`,
   * `TETHER_AI_KEY`, `TETHER_AI_MODEL`), checked at start; with none set, the offline `tether-echo`.
   */
  readonly llm?: LanguageModel;
  /** Tools module specs may name (`tools: ['search']`); over NATS each node resolves names against its own. */
  readonly tools?: readonly ModuleTool[];
  /**
   * Run as a node of a NATS system: variables in JetStream KV, shared with every other node, and the `tether`
   * service answering requests from any NATS client. Without it the runtime is embedded (in-memory store).
   */
  readonly nats?: NatsNodeOptions;
  /**
   * Watches every transition of every process live (XState inspection): a function, or an observer with `next`. A
   * session process's snapshots carry its context with the maps it updates in place (`variables`, `revisions`) as
   * plain, frozen objects taken at that transition, so a snapshot kept or serialized shows what it held then. That
   * copy, made at each transition that changed them, takes time in proportion to the session's variables (about 4 ms
   * per write at 5,000): an inspector is for watching the machines, not for a service's hot path. `false` is none.
   */
  readonly inspect?: ProcessRuntimeOptions['inspect'] | false;
  /**
   * Told about every failure no caller is waiting for: a crashed process, a throwing watcher, a failed purge. `where`
   * says what failed: `process <name>` for a crash, `monitor of process <name>` for a throwing monitor listener.
   * @default logs with `console.error`
   */
  readonly onError?: (error: unknown, where: string) => void;
}
/**
 * The durations `Runtime.start` takes: the waits at most what a timer can wait (past 2^31-1 ms one fires at once),
 * the periods, which sweeps check, as long as asked. 0 or less would fail calls or expire sessions at once.
 */
const DURATIONS = [
  ['sessionTtlMs', 'period'],
  ['hibernateAfterMs', 'period'],
  ['callTimeoutMs', 'wait'],
  ['executionTimeoutMs', 'wait'],
] as const;

/** The keys {@link RuntimeOptions} takes; any other is refused. */
const RUNTIME_START_KEYS = optionKeys<RuntimeOptions>({
  store: true,
  sessionTtlMs: true,
  hibernateAfterMs: true,
  callTimeoutMs: true,
  executionTimeoutMs: true,
  llm: true,
  tools: true,
  nats: true,
  inspect: true,
  onError: true,
});

/**
 * Refuses what `Runtime.start` cannot run on, before anything starts, as `connect` refuses its own: a bag that is no
 * object or names an option it does not take (a misspelled one would be a default applied without a word), and a
 * duration {@link durationMs} refuses.
 */
export function assertRuntimeOptions(options: unknown): asserts options is RuntimeOptions {
  assertOptionKeys(options, 'Runtime.start', RUNTIME_START_KEYS);
  const timings = options as Partial<Record<string, unknown>>;
  for (const [field, kind] of DURATIONS) if (timings[field] !== undefined) durationMs(field, timings[field], kind);
  assertFunctionOption('Runtime.start', 'onError', timings.onError);
  assertInspectOption('Runtime.start', timings.inspect);
  // `null` is as absent, as the runtime reads it (`??`): the model the environment names.
  if (timings.llm !== undefined && timings.llm !== null) assertLanguageModel(timings.llm);
  if (timings.tools !== undefined && !Array.isArray(timings.tools))
    throw new ValidationError(`Runtime.start option 'tools' must be an array of tools, got ${show(timings.tools)}`, {
      details: { field: 'tools' },
    });
  // `null` is as absent, as for `llm`: the runtime reads it with `??`.
  if (timings.store !== undefined && timings.store !== null) assertStore(timings.store);
}

/** The methods every `Store` has (`lastChange` and `watchBatches` are optional). */
const STORE_METHODS = [
  'get',
  'create',
  'update',
  'delete',
  'commit',
  'list',
  'history',
  'keys',
  'purge',
  'watch',
  'close',
];

/** Throws `ValidationError` unless `store` has the methods of a `Store`, naming those it lacks. */
function assertStore(store: unknown): void {
  const missing =
    typeof store === 'object' && store !== null
      ? STORE_METHODS.filter((method) => typeof (store as Record<string, unknown>)[method] !== 'function')
      : STORE_METHODS;
  if (missing.length === 0) return;
  const got = typeof store === 'object' && store !== null ? `an object without ${missing.join(', ')}` : show(store);
  throw new ValidationError(`Runtime.start option 'store' must be a Store, got ${got}`, {
    details: { field: 'store', missing },
  });
}
