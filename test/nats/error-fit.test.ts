import { describe, expect, it } from 'vitest';
import { ValidationError, errorFromJSON, VariableNotFoundError } from '../../src/errors.js';
import { fittedError, MAX_ERROR_BYTES } from '../../src/nats/error-fit.js';
import { encodeError } from '../../src/nats/wire.js';

const size = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('error replies cut to fit in a NATS message', () => {
  it('sends an error of ordinary size whole', () => {
    const error = new ValidationError('get got unknown field bogus; accepted: name', {
      details: { unknown: ['bogus'] },
    });
    const serialized = error.toJSON();
    expect(fittedError(serialized)).toBe(serialized);
  });

  it('cuts the message, every string and every array of one that echoes 600,000 characters, and says so', () => {
    const field = 'k'.repeat(600_000);
    const error = new ValidationError(`get got unknown field ${field}; accepted: name`, {
      details: { unknown: [field], accepted: ['name'], nested: { shape: Array(300_000).fill(0) } },
    });
    const fitted = fittedError(error.toJSON());
    expect(size(fitted)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(fitted.code).toBe('validation_failed');
    expect(fitted.message).toMatch(/^get got unknown field k{900,}…$/);
    expect(fitted.details).toMatchObject({ accepted: ['name'], cut: true });
    expect((fitted.details!.unknown as string[])[0]).toMatch(/^k+…$/);
    expect((fitted.details!.nested as { shape: number[] }).shape).toHaveLength(20);
  });

  it('keeps the names the receiving side rebuilds the error from whole, up to the longest Tether accepts', () => {
    const name = `v${'x'.repeat(127)}`;
    const allowed = Array.from({ length: 20_000 }, (_, i) => `model-${i}`);
    const error = new ValidationError(`${name}: must be one of: …`, {
      variable: name,
      details: { constraint: 'choices', allowed },
    });
    const rebuilt = errorFromJSON(fittedError(error.toJSON())) as ValidationError;
    expect(rebuilt.variable).toBe(name);
    expect(rebuilt.details).toMatchObject({ variable: name, constraint: 'choices', cut: true });
  });

  it('keeps only the top-level scalars when the cut details are still too large, and the class rebuilds from them', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`list${i}`, Array(20).fill('x'.repeat(100))]),
    );
    const error = new VariableNotFoundError('s1', 'v'.repeat(100_000), { details: wide });
    const fitted = fittedError(error.toJSON());
    expect(size(fitted)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(Object.keys(fitted.details!).sort()).toEqual(['cut', 'sessionId', 'variable']);
    const rebuilt = errorFromJSON(fitted);
    expect(rebuilt).toBeInstanceOf(VariableNotFoundError);
    expect(rebuilt.details).toMatchObject({ sessionId: 's1', variable: expect.stringMatching(/^v+…$/) });
  });

  it('sends an error of exactly 16 KiB whole and cuts one of a byte more', () => {
    const error = (length: number) => new ValidationError('m'.repeat(length)).toJSON();
    const length = 1000 + MAX_ERROR_BYTES - size(error(1000));
    expect(size(error(length))).toBe(MAX_ERROR_BYTES);
    const whole = error(length);
    expect(fittedError(whole)).toBe(whole);
    expect(fittedError(error(length + 1)).details).toMatchObject({ cut: true });
  });

  it('keeps nested details four levels deep, 20 entries of each object, its keys cut as its strings are', () => {
    const wideObject = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`key${i}`, i]));
    const longKey = 'k'.repeat(1000);
    const error = new ValidationError('x'.repeat(20_000), {
      details: { deep: { one: { two: { three: { four: 4 }, scalar: 3 } } }, wide: wideObject, keyed: { [longKey]: 1 } },
    });
    const details = fittedError(error.toJSON()).details!;
    // The top-level value is the first level: an object at the fourth is named by its kind, a scalar there kept.
    expect(details.deep).toEqual({ one: { two: { three: 'an object', scalar: 3 } } });
    expect(Object.keys(details.wide as object)).toEqual(Object.keys(wideObject).slice(0, 20));
    expect(details.keyed).toEqual({ [`${'k'.repeat(79)}…`]: 1 });
  });

  it('cuts as documented: over 16 KiB, the message to 1,000, top-level strings to 300, others to 80', () => {
    expect(MAX_ERROR_BYTES).toBe(16 * 1024);
    const error = new ValidationError('m'.repeat(20_000), {
      details: { top: 't'.repeat(5000), nested: { text: 'n'.repeat(5000) } },
    });
    const fitted = fittedError(error.toJSON());
    expect(fitted.message).toBe(`${'m'.repeat(999)}…`);
    expect(fitted.details).toEqual({ top: `${'t'.repeat(299)}…`, nested: { text: `${'n'.repeat(79)}…` }, cut: true });
  });

  it('is what an error reply carries, its header line cut as before', () => {
    const encoded = encodeError(new ValidationError('x'.repeat(100_000)));
    expect(encoded.body.length).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(encoded.description.length).toBeLessThanOrEqual(512);
  });
});
