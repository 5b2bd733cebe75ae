/**
 * Arguments a getter or proxy of the caller's makes unreadable: an option, a spec key, an input, an event field
 * whose reading throws is refused with `validation_failed` naming it, embedded and remote alike, and nothing changes.
 */
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Runtime, Supervisor } from '../../src/index.js';
import { useNatsFixture } from '../support/nats-fixture.js';

const fx = useNatsFixture();

const boom = (): never => {
  throw new Error('boom');
};

/** `{ [key] }`, whose `key` throws 'boom' when read. */
const throwing = (key: string): never => Object.defineProperty({}, key, { enumerable: true, get: boom }) as never;

/** A proxy of `items` whose `length` throws 'boom' when read. */
const lengthThrows = (items: unknown[]): never =>
  new Proxy(items, { get: (target, key) => (key === 'length' ? boom() : Reflect.get(target, key)) }) as never;

const PREDICT = { type: 'Predict', signature: 'question:string -> answer:string' };

describe('arguments whose reading throws', () => {
  it('are refused naming the option, key or input, by an embedded session and a remote one alike', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const embedded = await Runtime.start();
    try {
      for (const session of [await embedded.session('getters'), await client.session('getters')]) {
        await session.defineVariable('n', 'integer', 0);
        const qa = await session.module('qa', PREDICT);
        const configured = await session.module('configured', {
          type: 'Predict',
          signature: 'cfg:json -> answer:string',
        });
        // Thunks: a call made before its turn would reject with nobody listening yet.
        const refusals = [
          [
            () => session.setVariable('n', 1, throwing('updatedBy')),
            "setVariable option 'updatedBy' could not be read: boom",
          ],
          [
            () => session.variableHistory('n', throwing('limit')),
            "variableHistory option 'limit' could not be read: boom",
          ],
          [() => session.module('other', throwing('signature')), "module spec key 'signature' could not be read: boom"],
          [() => qa.execute(throwing('question')), "execute() of module 'qa' input 'question' could not be read: boom"],
          // Nested in an input, where Ax read it: the getter's own error came back, neither typed nor named.
          [
            () => configured.execute({ cfg: { list: [1, throwing('a')] } }),
            "input field 'cfg' at cfg.list[1].a could not be read: boom",
          ],
          [
            () => qa.execute({ question: 'q' }, throwing('timeoutMs')),
            "execute() of module 'qa' option 'timeoutMs' could not be read: boom",
          ],
          [
            () =>
              session.setVariable(
                'n',
                1,
                new Proxy(
                  {},
                  {
                    ownKeys() {
                      throw new Error('no keys');
                    },
                  },
                ),
              ),
            'setVariable options could not be read: no keys',
          ],
          [
            () => session.getVariables(Object.defineProperty(['n', 'm'], 1, { get: boom })),
            'names[1] could not be read: boom',
          ],
          [
            () => session.defineVariable('d', 'json', 1, throwing('description')),
            "d: option 'description' could not be read: boom",
          ],
          [
            () => session.defineVariable('p', 'string', 'a', { constraints: throwing('pattern') }),
            "p: constraint 'pattern' could not be read: boom",
          ],
          [() => session.setVariables(throwing('n')), "setVariables value 'n' could not be read: boom"],
          [
            () => session.importVariables([throwing('name')]),
            "imported variable records[0]: field 'name' could not be read: boom",
          ],
          [
            () => session.importVariables(Object.defineProperty([{}], 0, { get: boom })),
            'records[0] could not be read: boom',
          ],
          // An array whose length throws (a proxy's): the getter's own error came back, neither typed nor named.
          [() => session.getVariables(lengthThrows(['n'])), 'names could not be read: boom'],
          [() => session.importVariables(lengthThrows([])), 'records could not be read: boom'],
          [
            () => session.module('bound', { ...PREDICT, bindings: throwing('temperature') }),
            "module spec binding 'temperature' could not be read: boom",
          ],
        ] as const;
        for (const [call, message] of refusals) {
          // One at a time: each is called only once the one before it was answered.
          const error = await Promise.resolve()
            .then((): Promise<unknown> => call())
            .catch((e: unknown) => e);
          expect(error, message).toMatchObject({
            code: 'validation_failed',
            message,
            details: { constraint: 'unreadable' },
          });
        }
        // A define's refusal names its variable as its others do.
        await expect(session.defineVariable('d', 'json', 1, throwing('metadata'))).rejects.toMatchObject({
          variable: 'd',
          details: { variable: 'd', constraint: 'unreadable' },
        });
        expect(await session.describeVariable('n')).toMatchObject({ value: 0, version: 1 });
        expect((await session.listVariables()).map((record) => record.name)).toEqual(['n']);
        await expect(configured.execute({ cfg: { list: [1, { a: 2 }] } })).resolves.toMatchObject({
          moduleId: 'configured',
        });
      }
    } finally {
      await embedded.stop();
    }
  });

  it('are refused naming the argument when even their kind cannot be told: a revoked proxy, a prototype trap', async () => {
    await fx().node(fx().buckets());
    const client = await fx().client();
    const embedded = await Runtime.start();
    /** A proxy whose every reading throws 'boom', its prototype's too: no `Array.isArray` or plain-object check holds. */
    const opaque = (): never => new Proxy({}, { getPrototypeOf: boom, ownKeys: boom, get: boom }) as never;
    const revoked = (): never => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy as never;
    };
    try {
      for (const session of [await embedded.session('opaque'), await client.session('opaque')]) {
        await session.defineVariable('n', 'integer', 0);
        const qa = await session.module('qa', PREDICT);
        for (const make of [opaque, revoked]) {
          const refusals = [
            [() => session.setVariables(make()), 'setVariables values could not be read'],
            [() => session.setVariable('n', 1, make()), 'setVariable options could not be read'],
            [() => session.defineVariable('d', 'integer', 1, make()), 'd: options could not be read'],
            [
              () => session.defineVariable('d', 'integer', 1, { constraints: make() }),
              "d: option 'constraints' could not be read",
            ],
            [
              () => session.defineVariable('d', 'json', 1, { metadata: make() }),
              "d: option 'metadata' could not be read",
            ],
            [() => session.getVariables(make()), 'names could not be read'],
            [() => session.importVariables(make()), 'records could not be read'],
            [() => session.importVariables([make()]), 'records[0] could not be read'],
            [() => session.module('other', make()), 'module spec could not be read'],
            [() => session.module('other', { ...PREDICT, bindings: make() }), 'module spec bindings could not be read'],
            [() => qa.execute(make()), "execute() of module 'qa' inputs could not be read"],
          ] as const;
          for (const [call, message] of refusals) {
            const error = await Promise.resolve()
              .then((): Promise<unknown> => call())
              .catch((e: unknown) => e);
            expect(error, `${make.name}: ${message}`).toMatchObject({
              code: 'validation_failed',
              message: expect.stringContaining(message),
              details: { constraint: 'unreadable' },
            });
          }
          // Where no bag is read, only its kind told: never the engine's TypeError.
          await expect(session.lockVariable('n', make())).rejects.toMatchObject({
            code: 'validation_failed',
            message: expect.stringMatching(/^lock owner for 'n' (must be a string, got object|could not be read)/),
          });
        }
        expect(await session.describeVariable('n')).toMatchObject({ value: 0, version: 1 });
        expect((await session.listVariables()).map((record) => record.name)).toEqual(['n']);
      }
      // The runtime's own arguments alike.
      for (const make of [opaque, revoked]) {
        const process = embedded.spawn(createMachine({}));
        expect(() => embedded.spawn(createMachine({}), make())).toThrow('spawn options could not be read');
        await expect(embedded.call(process, { type: 'ping' }, make())).rejects.toMatchObject({
          code: 'validation_failed',
          message: expect.stringContaining('call options could not be read'),
        });
        await expect(embedded.listSessions(make())).rejects.toMatchObject({
          code: 'validation_failed',
          message: expect.stringContaining('listSessions options could not be read'),
        });
        await expect(Runtime.start(make())).rejects.toMatchObject({
          code: 'validation_failed',
          message: expect.stringContaining('Runtime.start options could not be read'),
        });
      }
    } finally {
      await embedded.stop();
    }
  });

  it('refuse a process event or a supervisor option the same way, sending and starting nothing', async () => {
    const runtime = await Runtime.start();
    try {
      const received: unknown[] = [];
      const process = runtime.spawn(createMachine({ on: { '*': { actions: ({ event }) => received.push(event) } } }));
      await expect(runtime.call(process, throwing('type'))).rejects.toMatchObject({
        code: 'validation_failed',
        message: "call event field 'type' could not be read: boom",
      });
      expect(() => runtime.cast(process, throwing('type'))).toThrow("cast event field 'type' could not be read: boom");
      expect(() => Supervisor.start(runtime, throwing('children'))).toThrow(
        "Supervisor.start option 'children' could not be read: boom",
      );
      expect(received).toEqual([]);
    } finally {
      await runtime.stop();
    }
  });
});
