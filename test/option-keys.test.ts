import { describe, expect, it } from 'vitest';
import { Runtime, ValidationError, connect, subscribeEvents } from '../src/index.js';
import { ProcessRuntime } from '../src/runtime/index.js';
import { useProcessRuntimes } from './support/process-runtimes.js';
import { counterMachine } from './runtime/fixtures.js';

// Nothing listens on port 1: a check that let anything connect would fail as unreachable, not as validation.
const NOWHERE = 'nats://127.0.0.1:1';

const createRuntime = useProcessRuntimes();

/** What `start` rejects or throws with. */
async function refusal(start: () => unknown): Promise<unknown> {
  try {
    await start();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('option bags name only options their owner takes', () => {
  it('Runtime.start refuses a misspelled option, naming it and the accepted ones, before anything starts', async () => {
    const error = await refusal(() => Runtime.start({ executionTimeout: 1000 } as never));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      message:
        'Runtime.start got unknown option executionTimeout; accepted: store, sessionTtlMs, hibernateAfterMs, ' +
        'callTimeoutMs, executionTimeoutMs, llm, tools, nats, inspect, onError',
      details: { unknown: ['executionTimeout'] },
    });
  });

  it('Runtime.start refuses a nats bag that is no object or names an unknown option, before connecting', async () => {
    for (const [nats, message] of [
      // Spread as its characters, a URL string left nats.js to connect to its own default server.
      [NOWHERE, 'nats options must be an object, got a string'],
      [[NOWHERE], 'nats options must be an object, got an array'],
      [{ servers: NOWHERE, bucket: 'x' }, /^nats got unknown option bucket; accepted: servers, user, pass, /],
      [{ servers: NOWHERE, reconnect: { maxAttempt: 3 } }, /^nats reconnect got unknown option maxAttempt; accepted:/],
      [{ servers: NOWHERE, reconnect: 'forever' }, 'nats reconnect options must be an object, got a string'],
      [
        { servers: NOWHERE, reconnect: { maxAttempts: 'forever' } },
        'reconnect.maxAttempts must be -1 (for ever) or a whole number from 0, got "forever"',
      ],
      [{ servers: NOWHERE, reconnect: { maxAttempts: -2 } }, /^reconnect.maxAttempts must be -1 .*, got -2$/],
      [{ servers: NOWHERE, reconnect: { waitMs: 0 } }, /^reconnect.waitMs must be a whole number of milliseconds/],
      // nats.js would take any of these as they are: a string, a timer that fires at once.
      [
        { servers: NOWHERE, connectTimeoutMs: '5000' },
        'connectTimeoutMs must be a whole number of milliseconds from 1 to 2147483647, got "5000"',
      ],
      [{ servers: NOWHERE, connectTimeoutMs: 2 ** 31 }, /^connectTimeoutMs must be a whole number of milliseconds/],
      // nats.js pings as often as its timer fires: 0 at once, a string as a string.
      [
        { servers: NOWHERE, pingIntervalMs: 0 },
        'pingIntervalMs must be a whole number of milliseconds from 1 to 2147483647, got 0',
      ],
      [
        { servers: NOWHERE, pingIntervalMs: '500' },
        /^pingIntervalMs must be a whole number of milliseconds .*, got "500"$/,
      ],
    ] as const) {
      const error = await refusal(() => Runtime.start({ nats } as never));
      expect(error, JSON.stringify(nats)).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('connect and subscribeEvents refuse a misspelled option or reconnect policy, before connecting', async () => {
    const start = [
      (options: object) => connect(options as never),
      (options: object) => subscribeEvents(options as never, () => {}),
    ];
    for (const [i, open] of start.entries()) {
      const owner = i === 0 ? 'connect' : 'subscribeEvents';
      await expect(open({ servers: NOWHERE, timeout: 100 })).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(new RegExp(`^${owner} got unknown option timeout; accepted: servers, `)),
        details: { unknown: ['timeout'] },
      });
      await expect(open({ servers: NOWHERE, reconnect: { wait: 10 } })).rejects.toMatchObject({
        message: `${owner} reconnect got unknown option wait; accepted: maxAttempts, waitMs`,
      });
      await expect(open({ servers: NOWHERE, reconnect: { maxAttempts: 1.5 } })).rejects.toMatchObject({
        details: { field: 'reconnect.maxAttempts' },
      });
      await expect(open({ servers: NOWHERE, connectTimeoutMs: 0 })).rejects.toMatchObject({
        details: { field: 'connectTimeoutMs' },
      });
      await expect(open({ servers: NOWHERE, pingIntervalMs: 1.5 })).rejects.toMatchObject({
        details: { field: 'pingIntervalMs' },
      });
    }
    await expect(subscribeEvents(null as never, () => {})).rejects.toMatchObject({
      message: 'subscribeEvents options must be an object, got null',
    });
    // A policy it can follow gets past the checks: only the connection fails.
    await expect(connect({ servers: NOWHERE, reconnect: { maxAttempts: -1, waitMs: 10 } })).rejects.toMatchObject({
      code: 'nats_connection',
    });
  });

  it('ProcessRuntime refuses a misspelled option of its own, of spawn and of call, touching no process', async () => {
    expect(() => new ProcessRuntime({ onErorr: () => {} } as never)).toThrow(
      'ProcessRuntime got unknown option onErorr; accepted: inspect, onError',
    );
    const runtime = createRuntime();
    expect(() => runtime.spawn(counterMachine, { name: 'a', hibernate: 100 } as never)).toThrow(
      'spawn got unknown option hibernate; accepted: name, input, systemId, hibernateAfter',
    );
    expect(() => runtime.spawn(counterMachine, null as never)).toThrow('spawn options must be an object, got null');
    // Nothing was spawned or registered by the refused spawns.
    expect(runtime.processes()).toEqual([]);
    const ref = runtime.spawn(counterMachine, { name: 'server' });
    // `timeoutMs` was read as absent: the call waited the default 5 s instead of 50 ms.
    const refused = runtime.call(ref, { type: 'increment' }, { timeoutMs: 50 } as never);
    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toThrow('call got unknown option timeoutMs; accepted: timeout');
    await expect(runtime.call(ref, { type: 'get' }, [] as never)).rejects.toThrow(
      'call options must be an object, got an array',
    );
    // The refused call never reached the process; null options are still no options.
    await expect(runtime.call(ref, { type: 'get' }, null as never)).resolves.toBe(0);
  });
});
