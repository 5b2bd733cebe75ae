import { afterEach, describe, expect, it } from 'vitest';
import {
  CallTimeoutError,
  Runtime,
  ValidationError,
  connect,
  createLanguageModel,
  createMemoryStore,
} from '../src/index.js';
import { OpenAIStub } from './support/openai-stub.js';

const WAIT = 'a number of milliseconds over 0 and at most 2147483647, or Infinity for no limit';
const PERIOD = 'a number of milliseconds over 0, or Infinity for never';

describe('runtime options', () => {
  let stub: OpenAIStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('refuses a bag that is no object, as connect refuses its own, before anything starts', async () => {
    for (const options of [null, 'embedded', []]) {
      const error = await Runtime.start(options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: 'validation_failed',
        message: expect.stringMatching(/^Runtime\.start options must be an object, got (null|a string|an array)$/),
      });
    }
  });

  it('refuses a store given with nats, saying a node keeps its variables in KV, before connecting', async () => {
    // No server listens there: a refusal that came after connecting would be a connection error instead.
    const error = await Runtime.start({ nats: { servers: 'nats://127.0.0.1:1' }, store: createMemoryStore() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'validation_failed',
      message: 'give either nats or store: a NATS node keeps its variables in JetStream KV',
    });
  });

  it('takes a null store or llm as absent, as it reads them', async () => {
    const runtime = await Runtime.start({ store: null, llm: null } as never);
    try {
      const session = await runtime.session('s');
      await session.defineVariable('t', 'float', 0.5);
      expect(await session.getVariable('t')).toBe(0.5);
    } finally {
      await runtime.stop();
    }
  });

  it('refuses an onError that is no function and an llm not built by createLanguageModel, before anything starts', async () => {
    for (const [options, message] of [
      [{ onError: 'log' }, "Runtime.start option 'onError' must be a function, got a string"],
      // Found by a review: these inspected nothing, silently, or threw at every inspection event.
      [
        { inspect: 42 },
        "Runtime.start option 'inspect' must be a function or an observer with a next function, got a number",
      ],
      [
        { inspect: 'yes' },
        "Runtime.start option 'inspect' must be a function or an observer with a next function, got a string",
      ],
      [
        { inspect: { next: 5 } },
        "Runtime.start option 'inspect' must be a function or an observer with a next function, got an object without a next function",
      ],
      [{ llm: {} }, 'llm must be a language model from createLanguageModel, got an object'],
      [{ llm: 'openai' }, 'llm must be a language model from createLanguageModel, got "openai"'],
      // Found by a review: these were TypeErrors ("tools is not iterable", "store.watch is not a function").
      [{ tools: {} }, "Runtime.start option 'tools' must be an array of tools, got an object"],
      [{ tools: null }, "Runtime.start option 'tools' must be an array of tools, got null"],
      [
        { store: { get: () => undefined } },
        "Runtime.start option 'store' must be a Store, got an object without create, update, delete, commit, list, history, keys, purge, watch, close",
      ],
      [{ store: 'memory' }, `Runtime.start option 'store' must be a Store, got "memory"`],
    ] as const) {
      const error = await Runtime.start(options as never).catch((e: unknown) => e);
      expect(error, message).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'validation_failed', message });
    }
    await expect(connect({ servers: 'nats://127.0.0.1:1', onError: 5 as never })).rejects.toMatchObject({
      code: 'validation_failed',
      message: "connect option 'onError' must be a function, got a number",
    });
  });

  it('takes inspect: false as no inspector, and refuses a nats inspect flag that is no boolean before connecting', async () => {
    const runtime = await Runtime.start({ inspect: false });
    await runtime.stop();
    // Found by a review: the text "false" an environment variable gives turned publishing on.
    for (const [inspect, got] of [
      ['false', 'string'],
      [1, 'number'],
      [{}, 'object'],
      [[], 'array'],
    ] as const) {
      // Port 1 answers nobody: a check made after connecting would fail with nats_unreachable instead.
      const error = await Runtime.start({ nats: { servers: 'nats://127.0.0.1:1', inspect } as never }).catch(
        (e: unknown) => e,
      );
      expect(error, got).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        message: `nats option 'inspect' must be a boolean, got ${got}`,
        details: { option: 'inspect', got },
      });
    }
  });

  it('refuses an endRequests reason that is no text or blank: each ended request would carry it', async () => {
    const runtime = await Runtime.start();
    try {
      for (const [reason, got] of [
        [5, 'number'],
        ['  ', 'blank text'],
        [null, 'null'],
      ] as const) {
        await expect(runtime.endRequests(reason as never)).rejects.toMatchObject({
          code: 'validation_failed',
          message: `endRequests' reason must be text that says why, got ${got}`,
          details: { field: 'reason', got },
        });
      }
      await expect(runtime.endRequests()).resolves.toBe(0);
    } finally {
      await runtime.stop();
    }
  });

  it('refuses a duration it cannot keep, naming it and what it takes', async () => {
    for (const [field, value, shown, takes] of [
      ['sessionTtlMs', 0, '0', PERIOD],
      ['sessionTtlMs', -1, '-1', PERIOD],
      ['sessionTtlMs', Number.NaN, 'NaN', PERIOD],
      ['hibernateAfterMs', '60000', '"60000"', PERIOD],
      ['hibernateAfterMs', -Infinity, '-Infinity', PERIOD],
      ['callTimeoutMs', 0, '0', WAIT],
      ['callTimeoutMs', '5000', '"5000"', WAIT],
      // Past 2^31-1 ms a timer fires at once: a call would fail as it is made.
      ['callTimeoutMs', 2 ** 31, '2147483648', WAIT],
      ['executionTimeoutMs', -Infinity, '-Infinity', WAIT],
      ['executionTimeoutMs', null, 'null', WAIT],
    ] as const) {
      const error = await Runtime.start({ [field]: value } as never).catch((e: unknown) => e);
      expect(error, `${field} ${shown}`).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: 'validation_failed',
        message: `${field} must be ${takes}; got ${shown}`,
        details: { field },
      });
    }
  });

  it('takes Infinity and periods longer than a timer waits: never expire, never hibernate, wait for ever', async () => {
    for (const options of [
      { sessionTtlMs: Infinity, hibernateAfterMs: Infinity, callTimeoutMs: Infinity, executionTimeoutMs: Infinity },
      { sessionTtlMs: 30 * 24 * 3_600_000, hibernateAfterMs: 2 ** 40 },
    ]) {
      const runtime = await Runtime.start(options);
      const session = await runtime.session('s');
      await session.defineVariable('t', 'float', 0.5);
      const qa = await session.module('qa', { type: 'Predict', signature: 'question -> answer' });
      await expect(qa.execute({ question: 'still here?' })).resolves.toMatchObject({ moduleId: 'qa' });
      await expect(session.getVariable('t')).resolves.toBe(0.5);
      await runtime.stop();
    }
  });

  it('rounds a fraction up, as execute reads its timeoutMs: a wait is never shorter than asked', async () => {
    stub = await OpenAIStub.start();
    stub.delayMs = 300;
    const llm = createLanguageModel({ provider: 'openai', url: stub.url, key: 'sk-test', model: 'gpt-4o-mini' });
    const runtime = await Runtime.start({ llm, executionTimeoutMs: 20.2 });
    try {
      const qa = await (await runtime.session('s')).module('qa', { type: 'Predict', signature: 'question -> answer' });
      const error = await qa.execute({ question: 'slow' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallTimeoutError);
      expect(error).toMatchObject({ timeoutMs: 21 });
    } finally {
      await runtime.stop();
    }
  });
});
