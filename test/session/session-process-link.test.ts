import { describe, expect, it } from 'vitest';
import { NoProcError } from '../../src/errors.js';
import type { SessionEnding, SessionHost, SessionProcess } from '../../src/session/session-host.js';
import { SessionProcessLink } from '../../src/session/session-process-link.js';

/** A session process that answers writes with `label` until it is ended. */
class FakeProcess implements SessionProcess {
  alive = true;
  #ending: SessionEnding | undefined;
  readonly calls: unknown[] = [];

  constructor(
    readonly label: string,
    readonly incarnation = 'life-1',
  ) {}

  end(ending: SessionEnding): void {
    this.alive = false;
    this.#ending = ending;
  }

  context(): never {
    if (!this.alive) throw new NoProcError(this.label);
    return { variables: new Map([['x', this.label]]) } as never;
  }

  ending(): SessionEnding | undefined {
    return this.#ending;
  }

  async call(event: unknown): Promise<unknown> {
    if (!this.alive) throw new NoProcError(this.label);
    this.calls.push(event);
    return { value: this.label };
  }
}

/**
 * A host whose `fresh` waits for a stamp of the session record (a KV write, slow when the bucket is) until the test
 * releases it, and whose `restart` wakes the session with `next`.
 */
function slowStampHost(next: FakeProcess): { host: SessionHost; stamped: () => void; restarts: () => number } {
  let release = (): void => {};
  const stamp = new Promise<void>((resolve) => (release = resolve));
  let restarts = 0;
  let stamping = true;
  const host = {
    callTimeoutMs: 1000,
    writeTimeoutMs: 1000,
    touch: () => {},
    stopped: () => false,
    fresh: () => (stamping ? stamp : undefined),
    restart: async () => {
      restarts += 1;
      return next;
    },
  } as unknown as SessionHost;
  return {
    host,
    stamped: () => {
      stamping = false;
      release();
    },
    restarts: () => restarts,
  };
}

describe('SessionProcessLink', () => {
  it('wakes the session again when it hibernated while a write waited for the stamp of its record', async () => {
    const first = new FakeProcess('first');
    const woken = new FakeProcess('woken');
    const { host, stamped, restarts } = slowStampHost(woken);
    const link = new SessionProcessLink('s1', first, host);

    const write = link.write({ kind: 'set' } as never);
    // Idle long enough here while the stamp was slow: the process hibernated, which loses nothing.
    first.end('hibernated');
    stamped();

    await expect(write).resolves.toBe('woken');
    expect(restarts()).toBe(1);
    expect(woken.calls).toHaveLength(1);
  });

  it('reads from the woken process when the session hibernated while a read waited for the stamp', async () => {
    const first = new FakeProcess('first');
    const woken = new FakeProcess('woken');
    const { host, stamped } = slowStampHost(woken);
    const link = new SessionProcessLink('s1', first, host);

    const read = link.live();
    first.end('hibernated');
    stamped();
    await expect(read).resolves.toBe(woken);
  });

  it('still says why when the session expired while a write waited for the stamp', async () => {
    const first = new FakeProcess('first');
    const { host, stamped, restarts } = slowStampHost(new FakeProcess('woken'));
    const link = new SessionProcessLink('s1', first, host);

    const write = link.write({ kind: 'set' } as never);
    first.end('expired');
    stamped();

    await expect(write).rejects.toMatchObject({ code: 'session_expired', sessionId: 's1' });
    expect(restarts()).toBe(0);
  });
});
