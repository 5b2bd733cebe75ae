/**
 * The public types say what the runtime does (found in review): what the runtime always refuses or what always throws
 * fails to compile, and what it allows compiles. The type half of each test is checked by `npm run typecheck` (CI
 * runs it): a `@ts-expect-error` over a line that compiles is itself an error there. The runtime half runs here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BridgeError,
  ERROR_CODES,
  Runtime,
  SessionError,
  ValidationError,
  errorFromJSON,
  isErrorCode,
  isSessionGone,
  type ErrorCode,
  type Session,
} from '../../src/index.js';

let runtime: Runtime;
let session: Session;
beforeEach(async () => {
  runtime = await Runtime.start();
  session = await runtime.session('types');
});
afterEach(() => runtime.stop());

describe('isSessionGone', () => {
  /** What a caller writes: the SessionError the guard is false for is still one, with its code. */
  function handle(error: unknown): string {
    if (!(error instanceof SessionError)) return 'other';
    if (isSessionGone(error)) return `gone: ${error.code}`;
    const code: SessionError['code'] = error.code;
    return code;
  }

  it('narrows to the two codes it is true for, leaving a stopped session a SessionError', () => {
    expect(handle(new SessionError('session_stopped', 's'))).toBe('session_stopped');
    expect(handle(new SessionError('session_expired', 's'))).toBe('gone: session_expired');
    expect(handle(new Error('x'))).toBe('other');
  });
});

describe('defineVariable', () => {
  it('refuses at runtime what fails to compile: a misspelt type, option, constraint, a description that is no text', async () => {
    const refused = [
      // @ts-expect-error: no such type
      () => session.defineVariable('t', 'flaot', 0.7),
      // @ts-expect-error: no such option
      () => session.defineVariable('t', 'float', 0.7, { constrains: { min: 0 } }),
      // @ts-expect-error: no such constraint of a float
      () => session.defineVariable('t', 'float', 0.7, { constraints: { minimum: 0 } }),
      // @ts-expect-error: a string constraint on a float
      () => session.defineVariable('t', 'float', 0.7, { constraints: { pattern: '^a' } }),
      // @ts-expect-error: a description is text
      () => session.defineVariable('t', 'float', 0.7, { description: 42 }),
    ];
    for (const define of refused) await expect(define()).rejects.toBeInstanceOf(ValidationError);
    expect(await session.listVariables()).toEqual([]);
  });

  it("compiles and takes each type's own constraints, and a record's metadata given back", async () => {
    const t = await session.defineVariable('t', 'float', 0.7, {
      constraints: { min: 0, max: 2 },
      metadata: { a: [1] },
    });
    await session.defineVariable('mode', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
    await session.defineVariable('name', 'string', 'x', { constraints: { pattern: '^[a-z]+$', maxLength: 10 } });
    await session.defineVariable('copy', 'float', 1, { metadata: t.metadata });
    expect((await session.describeVariable('copy')).metadata).toEqual({ a: [1] });
  });
});

describe('what a session hands out', () => {
  it('is read-only in its types as it is frozen at runtime', async () => {
    const record = await session.defineVariable('t', 'json', { a: 1 }, { metadata: { tags: ['x'], owner: { n: 1 } } });
    const owner = record.metadata.owner;
    const [exported] = await session.exportVariables();
    const attempts = [
      () => {
        // @ts-expect-error: a record's metadata is frozen
        if (typeof owner === 'object' && owner !== null && !Array.isArray(owner)) owner.n = 2;
      },
      () => {
        const value = exported?.value;
        // @ts-expect-error: an exported value is frozen
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) value.b = 2;
      },
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
  });
});

describe('a module spec', () => {
  it('refuses a binding of an attribute no module reads, which fails to compile', async () => {
    await session.defineVariable('t', 'float', 0.5);
    const creating = session.module('m', {
      type: 'Predict',
      signature: 'question:string -> answer:string',
      // @ts-expect-error: a misspelt attribute
      bindings: { temprature: 't' },
    });
    await expect(creating).rejects.toBeInstanceOf(ValidationError);
  });

  it('needs exactly one of type and typeVariable, as the runtime does', async () => {
    await session.defineVariable('kind', 'module', 'Predict');
    const signature = 'question:string -> answer:string';
    const refused = [
      // @ts-expect-error: neither a type nor a typeVariable
      () => session.module('neither', { signature }),
      // @ts-expect-error: both
      () => session.module('both', { type: 'Predict', typeVariable: 'kind', signature }),
    ];
    for (const create of refused) await expect(create()).rejects.toBeInstanceOf(ValidationError);
    expect((await (await session.module('fixed', { type: 'Predict', signature })).describe()).moduleType).toBe(
      'Predict',
    );
    expect((await (await session.module('chosen', { typeVariable: 'kind', signature })).describe()).moduleType).toBe(
      'Predict',
    );
  });
});

describe('isErrorCode', () => {
  /** What a caller writes: an exhaustive switch over the codes, which fails to compile once a code is left out. */
  function status(error: unknown): string {
    if (!(error instanceof BridgeError) || !isErrorCode(error.code)) return 'not ours';
    const code: ErrorCode = error.code;
    switch (code) {
      case 'validation_failed':
        return 'fix the request';
      case 'version_conflict':
      case 'variable_locked':
      case 'store_conflict':
        return 'read again and retry';
      default:
        return ERROR_CODES.includes(code) ? 'other' : 'unreachable';
    }
  }

  it('narrows a known code, and leaves out one a newer node may send', () => {
    expect(status(new ValidationError('bad'))).toBe('fix the request');
    expect(status(errorFromJSON({ code: 'version_conflict', message: 'x', details: {} }))).toBe('read again and retry');
    expect(status(errorFromJSON({ code: 'node_lost', message: 'x', details: {} }))).toBe('other');
    expect(status(errorFromJSON({ code: 'made_up_later', message: 'x' }))).toBe('not ours');
    expect(isErrorCode('constructor')).toBe(false);
    expect(ERROR_CODES).toContain('bridge_error');
  });
});
