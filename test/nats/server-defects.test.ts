import { describe, expect, it } from 'vitest';
import { NatsServerDefectError } from '../../src/index.js';
import { hasReplicaDefect, reportServerDefects } from '../../src/nats/server-defects.js';

/** What `reportServerDefects` told its `report` for a server of `version` and buckets of these replicas. */
function reported(version: string, replicas: { vars: number; sessions: number; modules: number }) {
  const told: Array<{ error: unknown; where: string }> = [];
  const buckets = Object.entries(replicas).map(([name, count]) => ({ name, replicas: count }));
  reportServerDefects(version, buckets, (error, where) => told.push({ error, where }));
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

  it('tells once, naming the server version and every replicated bucket, when the server has the defect', () => {
    const told = reported('2.9.10', { vars: 3, sessions: 1, modules: 3 });
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

  it('tells nothing when no bucket is replicated, or the server has the fix', () => {
    expect(reported('2.9.10', { vars: 1, sessions: 1, modules: 1 })).toEqual([]);
    expect(reported('2.10.19', { vars: 3, sessions: 3, modules: 3 })).toEqual([]);
  });
});
