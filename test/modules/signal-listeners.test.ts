/**
 * onAbort (signal-listeners.ts): the abort listeners of executions sharing one signal, held as one listener on it.
 * Found by a review: a listener removed by another during the same abort was still called, where the signal's own
 * listeners would not be.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/modules/signal-listeners.js';

/** How many 'abort' listeners `signal` holds (Node's own count, as its MaxListeners warning reads it). */
const held = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('onAbort', () => {
  it('holds one listener for many, calls each once on abort, and none after each was removed', () => {
    const controller = new AbortController();
    const called: number[] = [];
    const offs = [1, 2, 3].map((n) => onAbort(controller.signal, () => called.push(n)));
    expect(held(controller.signal)).toBe(1);
    offs[1]!();
    controller.abort();
    expect(called).toEqual([1, 3]);
    expect(held(controller.signal)).toBe(0);

    const other = new AbortController();
    const offOthers = [onAbort(other.signal, () => {}), onAbort(other.signal, () => {})];
    for (const off of offOthers) off();
    expect(held(other.signal)).toBe(0);
  });

  it('does not call a listener another one removed during the same abort', () => {
    const controller = new AbortController();
    const called: string[] = [];
    let offSecond: () => void = () => {};
    onAbort(controller.signal, () => {
      called.push('first');
      offSecond();
    });
    offSecond = onAbort(controller.signal, () => called.push('second'));
    controller.abort();
    expect(called).toEqual(['first']);
  });
});
