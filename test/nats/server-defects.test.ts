import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { InternalError, NatsServerDefectError } from '../../src/index.js';
import { hasReplicaDefect, reportServerDefects } from '../../src/nats/server-defects.js';

/** A connection to a server of `version` whose streams run `replicas` each, or whose stream info fails. */
function connectionTo(version: string, replicas: Record<string, number> | Error): NatsConnection {
  const info = async (stream: string) => {
    if (replicas instanceof Error) throw replicas;
    return { config: { num_replicas: replicas[stream] } };
  };
  return { info: { version }, jetstreamManager: async () => ({ streams: { info } }) } as unknown as NatsConnection;
}

/** What `reportServerDefects` told its `report`. */
async function reported(connection: NatsConnection): Promise<Array<{ error: unknown; where: string }>> {
  const told: Array<{ error: unknown; where: string }> = [];
  await reportServerDefects(connection, ['vars', 'sessions', 'modules'], (error, where) => told.push({ error, where }));
  return told;
}

describe('the check for the nats-server replica defect (fixed in 2.10.19)', () => {
  it('takes every release before 2.10.19 for one that has it, and none from 2.10.19 on', () => {
    for (const version of ['1.4.1', '2.9.10', 'v2.9.10', '2.9.25', '2.10.0', '2.10.18', '2.10.18-RC.1'])
      expect(hasReplicaDefect(version), version).toBe(true);
    for (const version of ['2.10.19', '2.10.19-RC.6', '2.10.20', '2.11.0', '3.0.0'])
      expect(hasReplicaDefect(version), version).toBe(false);
  });

  it('takes a version it cannot read for none that has it', () => {
    for (const version of [undefined, '', 'dev', '2.10']) expect(hasReplicaDefect(version), version).toBe(false);
  });

  it('tells once, naming the server version and every replicated bucket, when the server has the defect', async () => {
    const told = await reported(connectionTo('2.9.10', { KV_vars: 3, KV_sessions: 1, KV_modules: 3 }));
    expect(told).toHaveLength(1);
    const [{ error, where }] = told as [{ error: NatsServerDefectError; where: string }];
    expect(where).toBe('nats server');
    expect(error).toBeInstanceOf(NatsServerDefectError);
    expect(error).toMatchObject({
      code: 'nats_server_defect',
      serverVersion: '2.9.10',
      buckets: ['vars', 'modules'],
      fixedIn: '2.10.19',
    });
    expect(error.message).toContain('nats-server 2.9.10 (before 2.10.19)');
    expect(error.message).toContain("'vars', 'modules'");
    expect(error.message).toContain('nats-server#5205');
  });

  it('tells nothing when no bucket is replicated, or the server has the fix', async () => {
    expect(await reported(connectionTo('2.9.10', { KV_vars: 1, KV_sessions: 1, KV_modules: 1 }))).toEqual([]);
    expect(await reported(connectionTo('2.10.19', { KV_vars: 3, KV_sessions: 3, KV_modules: 3 }))).toEqual([]);
  });

  it('tells a failure to read the buckets as an internal_error naming the check, and resolves', async () => {
    const failure = new Error('stream info timed out');
    const told = await reported(connectionTo('2.9.10', failure));
    expect(told).toHaveLength(1);
    const [{ error, where }] = told as [{ error: InternalError; where: string }];
    expect(where).toBe('nats server');
    expect(error).toBeInstanceOf(InternalError);
    expect(error.message).toBe('the nats-server defect check failed: stream info timed out');
    expect(error.cause).toBe(failure);
    expect(error.details).toEqual({ buckets: ['vars', 'sessions', 'modules'] });
  });
});
