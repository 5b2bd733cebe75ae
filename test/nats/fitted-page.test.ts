import { describe, expect, it } from 'vitest';
import { fitPage } from '../../src/nats/fitted-page.js';

describe('fitPage', () => {
  it('takes items while their JSON array fits the budget, and says more follow', () => {
    // ["aa","bb"] is 11 bytes; a third item makes 16.
    expect(fitPage(['aa', 'bb', 'cc'], (s) => s, Infinity, 11)).toEqual({ items: ['aa', 'bb'], more: true });
    expect(fitPage(['aa', 'bb', 'cc'], (s) => s, Infinity, 16)).toEqual({ items: ['aa', 'bb', 'cc'], more: false });
    // Bytes, not characters: "é" is two bytes of UTF-8.
    expect(fitPage(['é', 'é'], (s) => s, Infinity, 9)).toEqual({ items: ['é'], more: true });
  });

  it('takes at most limit items', () => {
    expect(fitPage([1, 2, 3], (n) => n, 2, 1000)).toEqual({ items: [1, 2], more: true });
    expect(fitPage([1, 2], (n) => n, 2, 1000)).toEqual({ items: [1, 2], more: false });
  });

  it('always takes one item, however large, so that paging goes on', () => {
    // Said, with its size ("x…x" is 102 bytes), for a reply that may not carry it.
    expect(fitPage(['x'.repeat(100), 'y'], (s) => s, Infinity, 10)).toEqual({
      items: ['x'.repeat(100)],
      more: true,
      oversized: 102,
    });
    expect(fitPage([], (s: string) => s, Infinity, 10)).toEqual({ items: [], more: false });
  });

  it('encodes only the items it takes and the one that did not fit', () => {
    const encoded: number[] = [];
    fitPage([1, 2, 3, 4, 5], (n) => (encoded.push(n), 'x'.repeat(10)), Infinity, 30);
    expect(encoded).toEqual([1, 2, 3]);
  });
});
