import { describe, expect, it } from 'vitest';
import { createHeldOutput } from '../../src/nats/held-output.js';
import { manualLink } from '../support/manual-link.js';

describe('what a node sends while its connection is down', () => {
  it('goes at once while the connection is up, and in order once it is back while it is down', () => {
    const { link, drop, back } = manualLink();
    const sent: string[] = [];
    const output = createHeldOutput(
      link,
      () => {},
      () => false,
    );
    output.send(() => sent.push('up'), 10);
    drop();
    output.send(() => sent.push('reply 1'), 10);
    output.send(() => sent.push('notice 2'), 10);
    expect(sent).toEqual(['up']);

    back();
    expect(sent).toEqual(['up', 'reply 1', 'notice 2']);
    // Sent once: a later reconnect sends nothing again.
    drop();
    back();
    expect(sent).toHaveLength(3);
  });

  it('drops what is due past its byte limit and reports how much once the connection is back', () => {
    const { link, drop, back } = manualLink();
    const sent: number[] = [];
    const reported: string[] = [];
    const output = createHeldOutput(
      link,
      (error) => reported.push((error as Error).message),
      () => false,
      100,
    );
    drop();
    output.send(() => sent.push(1), 60);
    output.send(() => sent.push(2), 60);
    output.send(() => sent.push(3), 40);
    back();

    expect(sent).toEqual([1, 3]);
    expect(reported).toEqual([
      'dropped 1 of the replies and notices due while the connection was down: over the 100 bytes held at most',
    ]);
  });

  it('reports a send that fails once the connection is back, and sends the rest', () => {
    const { link, drop, back } = manualLink();
    const sent: number[] = [];
    const reported: string[] = [];
    const output = createHeldOutput(
      link,
      (_error, where) => reported.push(where),
      () => false,
    );
    drop();
    output.send(() => {
      throw new Error('closed');
    }, 1);
    output.send(() => sent.push(2), 1);
    back();

    expect(sent).toEqual([2]);
    expect(reported).toEqual(['sending what was held while the connection was down']);
  });

  it('holds nothing once the connection closed for good: what is due is sent, to fail where its caller reports it', () => {
    const { link, drop } = manualLink();
    let closed = false;
    const output = createHeldOutput(
      link,
      () => {},
      () => closed,
    );
    drop();
    closed = true;
    expect(() =>
      output.send(() => {
        throw new Error('CONNECTION_CLOSED');
      }, 1),
    ).toThrow('CONNECTION_CLOSED');
  });
});
