import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { sessionMachine, type SessionMachineEvent } from '../machines/session.machine.js';
import type { ReplyEvent } from '../machines/protocol.js';
import { MAX_WRITE_ATTEMPTS } from '../machines/session.writes.js';
import type { StoreWrite } from '../src/store/store.js';
import { createVariableRecord } from '../src/variables/record.js';
import type { VariableRecord } from '../src/variables/types.js';

const at = '2026-01-01T00:00:00.000Z';

/** Integer variable `name` at 0, as the store holds it at `revision`. */
function entry(name: string, revision: number) {
  const value = createVariableRecord({ id: `id-${name}`, name, type: 'integer', value: 0, options: {}, at });
  return { key: `s.${name}`, value, revision };
}

/**
 * Session `s` holding x (revision 1) and y (revision 2), its effects recorded rather than carried out: the test answers
 * for the store. Endings from another node (`session.end`) and stops reach it as they reach a node's process.
 */
function scriptedSession() {
  const commits: (readonly StoreWrite<VariableRecord>[])[] = [];
  const purges: (readonly { key: string; revision: number }[])[] = [];
  const actor = createActor(
    sessionMachine.provide({
      actions: {
        loadVariables: () => {},
        commitWrites: (_, { writes }) => void commits.push(writes),
        confirmUnchanged: () => {},
        purgeVariables: (_, { keys }) => void purges.push(keys),
      },
    }),
    { input: { sessionId: 's', ttlMs: 60_000 } },
  );
  const replies: ReplyEvent[] = [];
  actor.on('tether.reply', (reply) => replies.push(reply));
  actor.start();
  actor.send({ type: 'store.loaded', entries: [entry('x', 1), entry('y', 2)] });
  const send = (event: SessionMachineEvent) => actor.send(event);
  const reply = (callId: string) => replies.find((each) => each.callId === callId)?.result;
  return { actor, send, commits, purges, reply };
}

/** A session with `w1` (x = 1) in flight and `w2` (y = 2) queued behind it. */
function writing() {
  const session = scriptedSession();
  session.send({ type: 'write', callId: 'w1', request: { kind: 'set', name: 'x', value: 1, at } });
  session.send({ type: 'write', callId: 'w2', request: { kind: 'set', name: 'y', value: 2, at } });
  expect(session.commits).toHaveLength(1);
  return session;
}

describe('session machine', () => {
  it('ends as deleted when a deletion and an expiry both arrive during a write, in either order', () => {
    for (const order of [
      ['deleted', 'expired'],
      ['expired', 'deleted'],
    ] as const) {
      const { actor, send, purges, reply } = writing();
      for (const reason of order) send({ type: 'session.end', reason });
      send({ type: 'stop' });
      send({ type: 'store.committed', revisions: [3] });
      expect(actor.getSnapshot().value).toBe('deleted');
      expect(reply('w1')).toEqual({ ok: true, value: { value: expect.anything(), revision: 3 } });
      expect(reply('w2')).toMatchObject({ ok: false, error: { code: 'session_not_found' } });
      // Whoever deleted the session removes its variables; an expiry's purge must not run as well.
      expect(purges).toEqual([]);
    }
  });

  it('answers writes queued behind an expiry from another node with session_expired, and purges', () => {
    const { actor, send, purges, reply } = writing();
    send({ type: 'session.end', reason: 'expired' });
    send({ type: 'store.committed', revisions: [3] });
    expect(actor.getSnapshot().value).toBe('expired');
    expect(reply('w1')).toMatchObject({ ok: true });
    expect(reply('w2')).toEqual({
      ok: false,
      error: { code: 'session_expired', message: "session 's' expired", details: { sessionId: 's' } },
    });
    expect(purges).toEqual([
      [
        { key: 's.x', revision: 3 },
        { key: 's.y', revision: 2 },
      ],
    ]);
  });

  it('answers a stop deferred by a write once the write is done', () => {
    const { actor, send, reply } = writing();
    send({ type: 'stop', callId: 'stop-1' });
    expect(reply('stop-1')).toBeUndefined();
    send({ type: 'store.committed', revisions: [3] });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(reply('w1')).toMatchObject({ ok: true });
    expect(reply('w2')).toMatchObject({ ok: false, error: { code: 'session_stopped' } });
    expect(reply('stop-1')).toEqual({ ok: true, value: true });
  });

  it('still answers a deferred stop when a stop without a caller or a deletion follows it', () => {
    for (const after of [{ type: 'stop' }, { type: 'session.end', reason: 'deleted' }] as const) {
      const { actor, send, reply } = writing();
      send({ type: 'stop', callId: 'stop-1' });
      send(after);
      send({ type: 'store.committed', revisions: [3] });
      expect(actor.getSnapshot().value).toBe(after.type === 'stop' ? 'stopped' : 'deleted');
      expect(reply('stop-1')).toEqual({ ok: true, value: true });
    }
  });

  it('answers a name-by-name batch that failed part way with the revision of the names it wrote', () => {
    const { send, commits, reply } = scriptedSession();
    send({
      type: 'write',
      callId: 'b',
      request: {
        kind: 'setMany',
        values: [
          ['x', 1],
          ['y', 2],
        ],
        atomic: false,
        at,
      },
    });
    // Lost as one commit: it goes on name by name.
    send({ type: 'store.conflict', changes: [{ operation: 'put', ...entry('x', 1) }], key: 's.x' });
    expect(commits.map((writes) => writes.map((write) => write.key))).toEqual([['s.x', 's.y'], ['s.x']]);
    send({ type: 'store.committed', revisions: [7] });
    expect(commits.at(-1)?.map((write) => write.key)).toEqual(['s.y']);
    const error = { code: 'store_unavailable', message: 'the store is unreachable' };
    send({ type: 'store.failed', error });
    // A client waits for this revision before its next read, so that it reads the names written.
    expect(reply('b')).toEqual({
      ok: true,
      value: { value: { x: { ok: true, version: 2 }, y: { ok: false, error } }, revision: 7 },
    });
  });

  // Each name of a batch gone name by name has a budget of its own: neither the batch's lost commit nor a name given up
  // on or refused by the store before it spends a try of the next name's.
  it('gives each name of a batch gone name by name every try, after a lost batch, a given-up name or a refusal', () => {
    for (const first of ['loses', 'refused'] as const) {
      const { send, commits, reply } = scriptedSession();
      const values: [string, number][] = [
        ['x', 1],
        ['y', 2],
      ];
      send({ type: 'write', callId: 'b', request: { kind: 'setMany', values, atomic: false, at } });
      send({ type: 'store.conflict', changes: [], key: 's.x' });
      /** Loses every race of `key` written alone, answering how many times it was tried. */
      const loseEvery = (key: string) => {
        let tries = 0;
        // Each try is a commit of its own: the name's tries end with a conflict answered by no commit of it.
        const triedAgain = (seen: number) => commits.length > seen && commits.at(-1)?.[0]?.key === key;
        for (let seen = commits.length - 1; triedAgain(seen) && tries <= MAX_WRITE_ATTEMPTS; tries += 1) {
          seen = commits.length;
          expect(commits.at(-1)).toHaveLength(1);
          send({ type: 'store.conflict', changes: [], key });
        }
        return tries;
      };
      if (first === 'loses') expect(loseEvery('s.x')).toBe(MAX_WRITE_ATTEMPTS);
      else send({ type: 'store.failed', error: { code: 'validation_failed', message: 'over the store limit' } });
      expect(loseEvery('s.y')).toBe(MAX_WRITE_ATTEMPTS);
      expect(reply('b')).toMatchObject({
        ok: true,
        value: { value: { x: { ok: false }, y: { ok: false, error: { details: { attempts: MAX_WRITE_ATTEMPTS } } } } },
      });
    }
  });

  it('records each key of a batch at its own revision, which a later purge expects', () => {
    const { actor, send, purges } = scriptedSession();
    send({
      type: 'write',
      request: {
        kind: 'setMany',
        values: [
          ['x', 1],
          ['y', 2],
        ],
        atomic: true,
        at,
      },
    });
    send({ type: 'store.committed', revisions: [5, 6] });
    expect(actor.getSnapshot().context.revisions).toEqual(
      new Map([
        ['x', 5],
        ['y', 6],
      ]),
    );
    send({ type: 'session.end', reason: 'expired' });
    expect(purges).toEqual([
      [
        { key: 's.x', revision: 5 },
        { key: 's.y', revision: 6 },
      ],
    ]);
  });

  it('tells watchers who deleted a variable once its own delete commits', () => {
    const { actor, send } = scriptedSession();
    const changes: unknown[] = [];
    actor.on('variable.changed', (event) => changes.push(event.change));
    send({ type: 'write', request: { kind: 'delete', name: 'x', updatedBy: 'ops', at } });
    send({ type: 'store.committed', revisions: [3] });
    expect(changes).toEqual([
      { name: 'x', oldValue: 0, newValue: undefined, version: 2, updatedBy: 'ops', deleted: true },
    ]);
  });

  it('lets a write in flight finish when the idle sweep asks it to expire or hibernate', () => {
    for (const type of ['session.expire', 'session.hibernate'] as const) {
      const { actor, send, purges, reply } = writing();
      send({ type });
      expect(actor.getSnapshot().value).toEqual({ active: 'writing' });
      send({ type: 'store.committed', revisions: [3] });
      expect(reply('w1')).toMatchObject({ ok: true });
      expect(purges).toEqual([]);
    }
  });
});
