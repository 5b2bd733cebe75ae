/**
 * (c) Routing throughput: how many variable updates per second a node routes into its session process (counted
 * by a `watchVariables` listener on that node: the change was applied and announced), against how many a raw
 * `kv.watch` delivers, for the same pipelined writer putting the same number of same-sized records.
 * The writer puts records straight into the bucket (as another node's commits would arrive), because one
 * session's own `setVariable`s are serialized by design and would measure the writer, not the routing.
 * Goal (issue 4): ≥ 0.5× the raw rate.
 * @module
 */
import { connect, KvWatchInclude, type KV } from 'nats';
import { Runtime } from '../src/index.js';
import type { NatsBenchTarget } from './nats-propagation.js';
import { fmt } from './stats.js';

const GOAL = 0.5;
/** Puts in flight at once: enough to keep the server busy, few enough not to queue seconds of work. */
const WINDOW = 256;
/**
 * Variables written round-robin. A KV bucket keeps only `history` (64) messages per key, so a consumer more than
 * 64 writes of one key behind loses the older ones (KV semantics: a watch promises the latest value, not every
 * value). Spread over this many keys, updates stay deliverable unless a consumer falls more than 4,096 puts
 * behind the writer (seen once: 9,185 of 10,000 routed); rates count the updates a consumer saw.
 */
const KEYS = 64;
/** A pass that has not seen its last update by then is reported as stuck, not waited on forever. */
const DEADLINE_MS = 20_000;
const now = (): bigint => process.hrtime.bigint();
const encoder = new TextEncoder();
const keyOf = (i: number): string => `bench.v${i % KEYS}`;

/** One pass: the writer's put rate, the rate at which the consumer saw the updates, and how many it saw. */
interface RatePass {
  readonly putsPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly delivered: number;
}

/** Counts deliveries; `done` resolves with the time `finished()` first returns true, or rejects at the deadline. */
class Delivery {
  count = 0;
  #resolve!: (at: bigint) => void;
  readonly done: Promise<bigint>;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(readonly finished: () => boolean) {
    let reject!: (error: Error) => void;
    this.done = new Promise<bigint>((resolve, fail) => ((this.#resolve = resolve), (reject = fail)));
    this.#timer = setTimeout(
      () => reject(new Error(`no last update within ${DEADLINE_MS} ms (saw ${this.count})`)),
      DEADLINE_MS,
    );
  }

  /** Called per delivery and whenever `finished` may have become true. */
  check(): void {
    if (!this.finished()) return;
    clearTimeout(this.#timer);
    this.#resolve(now());
  }

  /** Ends the deadline: a pass that failed before waiting for `done` leaves no rejection behind. */
  stop(): void {
    clearTimeout(this.#timer);
  }
}

/** Puts `count` payloads with at most {@link WINDOW} in flight; `afterPuts` hears the last revision written. */
async function pipelined(
  kv: KV,
  count: number,
  payload: (i: number) => Uint8Array,
  delivery: Delivery,
  afterPuts: (lastRevision: number) => void,
): Promise<RatePass> {
  const t0 = now();
  let next = 0;
  let lastRevision = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      lastRevision = Math.max(lastRevision, await kv.put(keyOf(i), payload(i)));
    }
  };
  let putsDone: bigint;
  let last: bigint;
  try {
    await Promise.all(Array.from({ length: WINDOW }, lane));
    putsDone = now();
    afterPuts(lastRevision);
    delivery.check();
    last = await delivery.done;
  } finally {
    delivery.stop();
  }
  return {
    putsPerSecond: (count * 1e9) / Number(putsDone - t0),
    // What the consumer saw: one that falls more than a key's history behind skips to its latest value (KV
    // semantics), and a skipped update was not routed, so it does not count.
    deliveredPerSecond: (delivery.count * 1e9) / Number(last - t0),
    delivered: delivery.count,
  };
}

/** The raw pass: a `kv.watch` on its own connection; done once it delivered the last revision written. */
async function rawPass(
  target: NatsBenchTarget,
  writerKv: (bucket: string) => Promise<KV>,
  count: number,
  record: Uint8Array,
  round: number,
): Promise<RatePass> {
  const bucket = `bench_rate_raw_${target.id}_${round}`;
  const kv = await writerKv(bucket);
  const watcher = await connect({ servers: target.url, name: 'bench-raw-rate-watch', noAsyncTraces: true });
  const entries = await (
    await watcher.jetstream().views.kv(bucket)
  ).watch({ key: 'bench.>', include: KvWatchInclude.UpdatesOnly });
  let lastWritten = Number.POSITIVE_INFINITY;
  let latest = 0;
  const delivery = new Delivery(() => latest >= lastWritten);
  const pump = (async () => {
    for await (const entry of entries) {
      delivery.count++;
      latest = entry.revision;
      delivery.check();
    }
  })();
  try {
    return await pipelined(
      kv,
      count,
      () => record,
      delivery,
      (last) => (lastWritten = last),
    );
  } finally {
    entries.stop();
    await pump;
    await watcher.close();
  }
}

/** Our pass: node B routes the same puts, as records, into its session process; done once every written variable's
 * session watcher saw its last version. */
async function ourPass(
  target: NatsBenchTarget,
  writerKv: (bucket: string) => Promise<KV>,
  count: number,
  round: number,
): Promise<{ pass: RatePass; bytes: Uint8Array }> {
  const bucket = `bench_rate_vars_${target.id}_${round}`;
  const node = await Runtime.start({
    onError: () => {},
    nats: {
      servers: target.url,
      prefix: target.prefix,
      variablesBucket: bucket,
      sessionsBucket: `bench_rate_sessions_${target.id}_${round}`,
      name: 'bench-node-b',
    },
  });
  try {
    const session = await node.session('bench');
    const defined = await Promise.all(
      Array.from({ length: KEYS }, (_, k) => session.defineVariable(`v${k}`, 'float', 0)),
    );
    // Variable k receives puts k, k + KEYS, ...: its last version is its defined version plus that many.
    const finalVersion = defined.map((record, k) => record.version + Math.ceil((count - k) / KEYS));
    // A run of fewer puts than variables leaves some unwritten: they have no last version to wait for.
    const written = Math.min(KEYS, count);
    let complete = 0;
    const delivery = new Delivery(() => complete === written);
    const unwatch = await session.watchVariables('v*', (change) => {
      delivery.count++;
      if (change.version === finalVersion[Number(change.name.slice(1))]) complete++;
      delivery.check();
    });
    const kv = await writerKv(bucket);
    // Put i is the next version of its variable, as a commit from another node would be.
    const record = (i: number): Uint8Array => {
      const base = defined[i % KEYS]!;
      return encoder.encode(
        JSON.stringify({ ...base, value: i + 1, version: base.version + Math.floor(i / KEYS) + 1 }),
      );
    };
    const pass = await pipelined(kv, count, record, delivery, () => {});
    unwatch();
    return { pass, bytes: record(count) };
  } finally {
    await node.stop();
  }
}

/** Runs `rounds` alternating raw/ours passes of `count` updates and reports the best pass of each side. */
export async function benchRoutingRate(target: NatsBenchTarget, count = 10_000, rounds = 2): Promise<string[]> {
  const writer = await connect({ servers: target.url, name: 'bench-rate-writer', noAsyncTraces: true });
  const writerKv = (bucket: string) => writer.jetstream().views.kv(bucket, { history: 64 });
  const ours: RatePass[] = [];
  const raws: RatePass[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const { pass, bytes } = await ourPass(target, writerKv, count, round);
      ours.push(pass);
      raws.push(await rawPass(target, writerKv, count, bytes, round));
    }
  } finally {
    // Left open, it would go on reconnecting once the bench's server stopped, and hold the run up.
    await writer.close();
  }

  const best = (passes: RatePass[]) => passes.reduce((a, b) => (b.deliveredPerSecond > a.deliveredPerSecond ? b : a));
  const our = best(ours);
  const raw = best(raws);
  const ratio = our.deliveredPerSecond / raw.deliveredPerSecond;
  return [
    `(c) updates routed into a session process (${count.toLocaleString('en-US')} pipelined KV puts over ${KEYS} variables, window ${WINDOW}, best of ${rounds})`,
    `${'routed → session watcher'.padEnd(28)} ${fmt(our.deliveredPerSecond, 0).padStart(10)} updates/s (${our.delivered} seen; writer ${fmt(our.putsPerSecond, 0)} puts/s)` +
      `  | raw kv.watch ${fmt(raw.deliveredPerSecond, 0)} updates/s (${raw.delivered} seen; writer ${fmt(raw.putsPerSecond, 0)} puts/s)  | ratio ${fmt(ratio, 2)}x`,
    `  goal ≥ ${GOAL}× raw rate: ${ratio >= GOAL ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×)`,
  ];
}
