import { describe, expect, it } from 'vitest';
import { RequestEnding } from '../../src/nats/request-ending.js';

describe('RequestEnding', () => {
  it('tells each listener the reason once, and a listener added after the end at once', () => {
    const ending = new RequestEnding();
    const heard: unknown[] = [];
    ending.onEnd((reason) => heard.push(['first', reason]));
    expect(ending.ended).toBe(false);
    expect(ending.reason).toBeUndefined();
    expect(heard).toEqual([]);

    const reason = new Error('drain timeout ran out');
    ending.end(reason);
    ending.end(new Error('a second end'));
    ending.onEnd((late) => heard.push(['late', late]));

    expect(ending.ended).toBe(true);
    expect(ending.reason).toBe(reason);
    expect(heard).toEqual([
      ['first', reason],
      ['late', reason],
    ]);
  });
});
