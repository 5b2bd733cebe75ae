import { describe, expect, it } from 'vitest';
import { crashErrorOf, formatExitReason, isAbnormal, isCrash, isFailure } from '../../src/runtime/index.js';

const boom = new Error('boom');

describe('exit-reason', () => {
  it('treats every reason but normal as abnormal, so it travels along links', () => {
    expect(isAbnormal('normal')).toBe(false);
    expect(isAbnormal('shutdown')).toBe(true);
    expect(isAbnormal({ error: boom })).toBe(true);
  });

  it('does not count normal, shutdown or { shutdown }, however many links they came along, as failures for transient children', () => {
    expect(isFailure('normal')).toBe(false);
    expect(isFailure('shutdown')).toBe(false);
    expect(isFailure({ shutdown: 'failed_to_start_child' })).toBe(false);
    expect(isFailure('killed')).toBe(true);
    expect(isFailure({ error: boom })).toBe(true);
    // Taken down by a link, a process exits with the reason that came along it, as in Erlang.
    expect(isFailure({ linked: '<0.1>', reason: 'shutdown' })).toBe(false);
    expect(isFailure({ linked: '<0.2>', reason: { linked: '<0.1>', reason: { shutdown: 'done' } } })).toBe(false);
    expect(isFailure({ linked: '<0.1>', reason: { error: boom } })).toBe(true);
    expect(isFailure({ linked: '<0.1>', reason: 'killed' })).toBe(true);
  });

  it('finds the crash error behind a chain of links', () => {
    expect(isCrash({ error: boom })).toBe(true);
    expect(isCrash('shutdown')).toBe(false);
    expect(crashErrorOf({ linked: '<0.2>', reason: { linked: '<0.1>', reason: { error: boom } } })).toBe(boom);
    expect(crashErrorOf('shutdown')).toBeUndefined();
  });

  it('reads as one line in messages', () => {
    expect(formatExitReason('normal')).toBe('normal');
    expect(formatExitReason({ error: boom })).toBe('crash: boom');
    expect(formatExitReason({ error: 'thrown string' })).toBe('crash: thrown string');
    expect(formatExitReason({ linked: '<0.1>', reason: { error: boom } })).toBe('linked <0.1> exited: crash: boom');
    expect(formatExitReason({ shutdown: 'failed_to_start_child' })).toBe('shutdown: failed_to_start_child');
  });
});
