import { describe, expect, it } from 'vitest';
import { InternalError, Runtime, SessionError, ValidationError } from '../src/index.js';
import { createSubjects } from '../src/nats/subjects.js';
import {
  DEFAULT_SESSION_PAGE,
  MAX_SESSION_PAGE,
  listOptionsOf,
  pageFromWire,
  pageOf,
} from '../src/nats/session-page.js';
import { validationErrorOf } from './support/validation-error.js';

describe('session-list', () => {
  it('pages a sorted list of ids strictly after `after`, with `next` only when more follow', () => {
    const ids = ['A', 'a', 'a-1', 'b', 'c'];
    expect(pageOf(ids, { after: undefined, limit: 2 })).toEqual({ ids: ['A', 'a'], next: 'a' });
    expect(pageOf(ids, { after: 'a', limit: 2 })).toEqual({ ids: ['a-1', 'b'], next: 'b' });
    expect(pageOf(ids, { after: 'b', limit: 2 })).toEqual({ ids: ['c'] });
    expect(pageOf(ids, { after: 'a-0', limit: 3 })).toEqual({ ids: ['a-1', 'b', 'c'] });
    expect(pageOf(ids, { after: 'c', limit: 2 })).toEqual({ ids: [] });
    expect(pageOf([], { after: undefined, limit: 1 })).toEqual({ ids: [] });
    // Past the ASCII of ids, UTF-16 and code-point order agree: nothing sorts before an `after` up there.
    expect(pageOf(ids, { after: '\u{1F600}', limit: 2 })).toEqual({ ids: [] });
  });

  it('is asked on one subject per prefix, naming no session', () => {
    expect(createSubjects().sessionsList()).toBe('tether.v1.sessions.list');
    expect(createSubjects('acme.prod').sessionsList()).toBe('acme.prod.v1.sessions.list');
    // Not a session request: no session endpoint's wildcard takes it.
    expect(createSubjects().parseRequest('tether.v1.sessions.list')).toBeUndefined();
  });

  it('checks the options as the wire checks a body', () => {
    expect(listOptionsOf(undefined)).toEqual({ after: undefined, limit: DEFAULT_SESSION_PAGE });
    expect(listOptionsOf({ after: 'x', limit: MAX_SESSION_PAGE })).toEqual({ after: 'x', limit: MAX_SESSION_PAGE });
    expect(listOptionsOf({ after: undefined, limit: undefined })).toEqual({ after: undefined, limit: 1000 });
    for (const bad of ['x', 1, null, [], { limit: 0 }, { limit: 5001 }, { after: 1 }, { cursor: 'x' }]) {
      expect(() => listOptionsOf(bad), JSON.stringify(bad)).toThrow(ValidationError);
    }
    expect(() => listOptionsOf({ after: 'x'.repeat(129) })).toThrow("field 'after' must be at most 128 characters");
    expect(() => listOptionsOf({ limit: 0 })).toThrow("field 'limit' must be a whole number from 1 to 5000, got 0");
    // Told the range too, not "a whole number ≥ 0", which 0 is not.
    expect(() => listOptionsOf({ limit: 1.5 })).toThrow("field 'limit' must be a whole number from 1 to 5000, got 1.5");
    expect(() => listOptionsOf({ limit: '3' })).toThrow(
      "field 'limit' must be a whole number from 1 to 5000, got string",
    );
    expect(() => listOptionsOf({ cursor: 'x' })).toThrow(
      'sessions.list got unknown field cursor; accepted: after, limit',
    );
    // A bag that is no object is refused as such, and a cursor of the wrong kind by its field.
    for (const bag of ['x', null, []]) {
      expect(
        validationErrorOf(() => listOptionsOf(bag)),
        JSON.stringify(bag),
      ).toMatchObject({
        message: 'listSessions options must be an object',
        details: { constraint: 'type' },
      });
    }
    expect(validationErrorOf(() => listOptionsOf({ after: 1 }))).toMatchObject({
      message: "field 'after' must be a string, got 1",
      details: { field: 'after', expected: 'a string', got: 'number' },
    });
  });

  it('takes a page from a reply as it came, and refuses a malformed one as an internal error', () => {
    expect(pageFromWire({ ids: ['a', 'b'], next: 'b' })).toEqual({ ids: ['a', 'b'], next: 'b' });
    expect(pageFromWire({ ids: [] })).toEqual({ ids: [] });
    for (const bad of [
      null,
      'a',
      {},
      { ids: 'a' },
      { ids: [1] },
      { ids: ['a'], next: 2 },
      { ids: ['a'], next: null },
    ]) {
      expect(() => pageFromWire(bad), JSON.stringify(bad)).toThrow(InternalError);
    }
    expect(() => pageFromWire({ ids: ['a'], next: 2 })).toThrow('malformed sessions.list reply from a tether node');
  });

  it("lists an embedded runtime's sessions, sorted and paged, and refuses once it stopped", async () => {
    const runtime = await Runtime.start();
    expect(await runtime.listSessions()).toEqual({ ids: [] });
    for (const id of ['zeta', 'Alpha', 'beta', 'alpha']) await runtime.session(id);
    expect(await runtime.listSessions()).toEqual({ ids: ['Alpha', 'alpha', 'beta', 'zeta'] });
    expect(await runtime.listSessions({ limit: 3 })).toEqual({ ids: ['Alpha', 'alpha', 'beta'], next: 'beta' });
    expect(await runtime.listSessions({ after: 'beta', limit: 3 })).toEqual({ ids: ['zeta'] });
    await (await runtime.session('beta')).delete();
    expect((await runtime.listSessions()).ids).toEqual(['Alpha', 'alpha', 'zeta']);
    // Stopped, a session that held a variable stays listed (it is in the store); an empty one leaves no trace.
    const held = await runtime.session('Alpha');
    await held.defineVariable('x', 'integer', 1);
    await held.stop();
    await (await runtime.session('alpha')).stop();
    expect(runtime.sessionIds()).toEqual(['zeta']);
    expect((await runtime.listSessions()).ids).toEqual(['Alpha', 'zeta']);
    const bad = await runtime.listSessions({ limit: 0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad).toMatchObject({ details: { field: 'limit' } });

    await runtime.stop();
    const stopped = await runtime.listSessions().catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(SessionError);
    expect(stopped).toMatchObject({ code: 'session_stopped', message: 'every session stopped' });
    expect(await runtime.session('zeta').catch((e: unknown) => (e as SessionError).code)).toBe('session_stopped');
  });
});
