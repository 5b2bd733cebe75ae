/**
 * Listing every session: a client pages through 100,000 sessions with `listSessions` (the default page of 1,000,
 * served by a node in this process), against a raw `kv.keys()` over the same sessions bucket, which names every key
 * and checks none. The records are put straight into the bucket, as nodes opening that many sessions would leave
 * them. No goal: the figure says what an operator's `tether session list` costs at that scale.
 * @module
 */
import { connect as natsConnect } from 'nats';
import { connect, Runtime } from '../src/index.js';
import type { NatsBenchTarget } from './nats-propagation.js';
import { fmt } from './stats.js';

const SESSIONS = 100_000;
/** Puts in flight at once while filling the bucket. */
const WINDOW = 500;

/** Milliseconds `op` took. */
async function timedMs(op: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Lists every session, both ways, and returns the report lines. */
export async function benchSessionListing(target: NatsBenchTarget, count = SESSIONS): Promise<string[]> {
  const sessionsBucket = `bench_list_sessions_${target.id}`;
  // Whatever started is stopped again, also when the run fails.
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const node = await Runtime.start({
      nats: {
        servers: target.url,
        prefix: target.prefix,
        variablesBucket: `bench_list_vars_${target.id}`,
        sessionsBucket,
        modulesBucket: `bench_list_modules_${target.id}`,
      },
      onError: () => {},
    });
    cleanups.unshift(() => node.stop());
    const nc = await natsConnect({ servers: target.url, name: 'bench-list-raw' });
    cleanups.unshift(() => nc.close());
    const client = await connect({
      servers: target.url,
      prefix: target.prefix,
      name: 'bench-list-client',
      timeoutMs: 60_000,
      onError: () => {},
    });
    cleanups.unshift(() => client.close());
    const kv = await nc.jetstream().views.kv(sessionsBucket);
    const at = new Date().toISOString();
    for (let i = 0; i < count; i += WINDOW) {
      const ids = Array.from(
        { length: Math.min(WINDOW, count - i) },
        (_, j) => `bench-${String(i + j).padStart(7, '0')}`,
      );
      await Promise.all(
        ids.map((id) => kv.put(id, JSON.stringify({ sessionId: id, createdAt: at, incarnation: id, activeAt: at }))),
      );
    }

    let listed = 0;
    let pages = 0;
    const ours = await timedMs(async () => {
      let after: string | undefined;
      do {
        const page = await client.listSessions({ after });
        listed += page.ids.length;
        pages += 1;
        after = page.next;
      } while (after !== undefined);
    });
    let named = 0;
    const raw = await timedMs(async () => {
      for await (const key of await kv.keys()) if (key) named += 1;
    });
    if (listed !== count || named !== count) throw new Error(`listed ${listed}, kv.keys named ${named}, of ${count}`);
    return [
      `Listing sessions: ${count.toLocaleString('en-US')} sessions in one bucket, every one`,
      `  client.listSessions, ${pages} pages of 1,000  ${fmt(ours, 0)} ms (${fmt((ours * 1000) / count)} µs per session)` +
        `  | raw kv.keys() ${fmt(raw, 0)} ms (${fmt((raw * 1000) / count)} µs per key)  | ratio ${(ours / raw).toFixed(1)}x`,
      `  (the listing reads each key's last write to leave out deleted sessions, and pages; kv.keys checks nothing)`,
    ];
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}
