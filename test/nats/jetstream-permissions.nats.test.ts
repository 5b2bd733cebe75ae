/**
 * A node whose NATS user the server's permissions refuse a JetStream subject. Was: every such refusal (a bucket's
 * stream info or create at start, a KV put) came out as `internal_error` wrapping nats.js's raw "Permissions
 * Violation" text, with no subject, no status and no outcome, and the README listed no JetStream subject at all, so a
 * user allowed exactly what it listed could not start a node. Now: the refusal is `nats_connection` (`refused`)
 * naming the subject, the bucket and the key, with `outcome: 'not_applied'` for a write that was not sent; and a node
 * allowed exactly the subjects the README lists starts, creates its buckets, serves and watches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEchoModel, NatsConnectionError, Runtime } from '../../src/index.js';
import { startNatsServer, type NatsTestServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';

const BUCKETS = ['tether_vars', 'tether_sessions', 'tether_modules'];

/** The JetStream subjects the README lists for a node, for each of its buckets; `create` only where it makes them. */
function jetStreamSubjects(create: boolean): string[] {
  return BUCKETS.flatMap((bucket) => [
    `$KV.${bucket}.>`,
    `$JS.API.STREAM.INFO.KV_${bucket}`,
    ...(create ? [`$JS.API.STREAM.CREATE.KV_${bucket}`] : []),
    `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
    `$JS.API.STREAM.MSG.DELETE.KV_${bucket}`,
    `$JS.API.DIRECT.GET.KV_${bucket}.>`,
    `$JS.API.CONSUMER.CREATE.KV_${bucket}.>`,
    `$JS.FC.KV_${bucket}.>`,
  ]);
}

/** A user allowed the README's core subjects, and `jetStream` to publish to. */
function user(name: string, jetStream: readonly string[]): string {
  const core = ['tether.>', '$SRV.>', '_INBOX.>'];
  return (
    `  { user: ${name}, password: p, permissions: {\n` +
    `      publish: { allow: ${JSON.stringify([...core, ...jetStream])} },\n` +
    `      subscribe: { allow: ${JSON.stringify(core)} } } }`
  );
}

let server: NatsTestServer;
beforeAll(async () => {
  server = await startNatsServer({
    config: [
      'authorization { users: [',
      // Its prefix, $SRV and its inboxes, and no JetStream at all.
      user('core', []),
      // Everything but the variables bucket's key subjects.
      '  { user: noput, password: p, permissions: { publish: { deny: ["$KV.tether_vars.>"] } } }',
      user('creator', jetStreamSubjects(true)),
      user('joiner', jetStreamSubjects(false)),
      '] }',
    ].join('\n'),
  });
});
afterAll(() => server?.stop());

const natsAs = (name: string) => ({ servers: server.url, user: name, pass: 'p', unavailableRetryMs: 2000 });

describe('a node refused a JetStream subject by its NATS permissions', () => {
  it('fails its start with nats_connection (refused) naming the JetStream subject, not internal_error', async () => {
    const error = await Runtime.start({ onError: () => {}, nats: natsAs('core') }).then(
      async (runtime) => {
        await runtime.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({
      code: 'nats_connection',
      status: 'refused',
      details: { subject: '$JS.API.STREAM.INFO.KV_tether_vars', bucket: 'tether_vars' },
    });
    expect((error as Error).message).toContain("open of 'tether_vars' in KV bucket 'tether_vars' not sent");
  }, 20_000);

  it('fails a write whose KV subject is refused with nats_connection (refused, not_applied), and the value stays', async () => {
    const runtime = await Runtime.start({ onError: () => {}, nats: natsAs('noput') });
    try {
      const session = await runtime.session('s1');
      const error = await session.defineVariable('x', 'integer', 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({
        code: 'nats_connection',
        status: 'refused',
        details: { subject: '$KV.tether_vars.s1.x', bucket: 'tether_vars', key: 's1.x', outcome: 'not_applied' },
      });
      expect(await session.hasVariable('x')).toBe(false);
    } finally {
      await runtime.stop();
    }
  }, 20_000);
});

describe('a node allowed exactly the JetStream subjects the README lists', () => {
  it('creates its buckets, writes, reads history, runs a module, watches from another node and deletes a session', async () => {
    const llm = createEchoModel();
    // A publish nobody waits on (a watch's flow-control reply, say) is refused only in a report.
    const refused: unknown[] = [];
    const onError = (error: unknown) =>
      void (error instanceof NatsConnectionError && error.status === 'refused' && refused.push(error));
    const creator = await Runtime.start({ onError, llm, nats: natsAs('creator') });
    // Starts on the buckets the first one made: it needs no stream create.
    const joiner = await Runtime.start({ onError, llm, nats: natsAs('joiner') });
    try {
      const session = await creator.session('s1');
      await session.defineVariable('x', 'integer', 1);
      await session.setVariable('x', 2);
      expect((await session.variableHistory('x')).map((entry) => entry.value)).toEqual([1, 2]);
      const module = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string' });
      await module.execute({ question: 'q' });
      const seen: unknown[] = [];
      await (await joiner.session('s1')).watchVariables('*', (change) => void seen.push(change.newValue));
      await session.setVariable('x', 3);
      await waitFor(() => seen.includes(3), { message: "the joiner's watch heard the write" });
      await session.delete();
      expect(await (await creator.session('s1')).hasVariable('x')).toBe(false);
      expect(refused).toEqual([]);
    } finally {
      await Promise.all([creator.stop(), joiner.stop()]);
    }
  }, 30_000);
});
