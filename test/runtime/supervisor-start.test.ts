import { describe, expect, it } from 'vitest';
import { useProcessRuntimes } from '../support/process-runtimes.js';
import { AlreadyExistsError, ChildStartError, ValidationError } from '../../src/errors.js';
import {
  DynamicSupervisor,
  ProcessRuntime,
  Supervisor,
  type ChildSpec,
  type ChildStart,
  type SupervisorOptions,
} from '../../src/runtime/index.js';
import { counterMachine, crashOnStartMachine } from './fixtures.js';
import { counter, startAbc } from '../support/supervisor-children.js';

const createRuntime = useProcessRuntimes();

describe('Supervisor', () => {
  it('starts the children in order, registered under their names', () => {
    const runtime = createRuntime();
    const sup = startAbc(runtime, { name: 'sup' });
    expect(runtime.whereis('sup')).toBe(sup.ref);
    expect(sup.which().map((child) => child.id)).toEqual(['a', 'b', 'c']);
    expect(runtime.processes().map((ref) => ref.name)).toEqual(['sup', 'a', 'b', 'c']);
    expect(sup.child('b')).toBe(runtime.whereis('b'));
  });

  // Found by mutation: which() reported no restart type for a child spec that gave none.
  it('lists each child with its restart type, permanent when its spec gives none', () => {
    const runtime = createRuntime();
    const sup = Supervisor.start(runtime, { children: [counter('a'), counter('t', 'transient')] });
    expect(sup.which().map(({ id, restart }) => [id, restart])).toEqual([
      ['a', 'permanent'],
      ['t', 'transient'],
    ]);
  });

  it('throws AlreadyExistsError when its name is taken', () => {
    const runtime = createRuntime();
    runtime.spawn(counterMachine, { name: 'sup' });
    expect(() => startAbc(runtime, { name: 'sup' })).toThrow(AlreadyExistsError);
    expect(runtime.whereis('a')).toBeUndefined();
  });

  it('throws ValidationError naming the id two children share, and starts neither', () => {
    const runtime = createRuntime();
    const start = (): Supervisor => Supervisor.start(runtime, { children: [counter('a'), counter('b'), counter('a')] });
    expect(start).toThrow(ValidationError);
    expect(start).toThrow(
      expect.objectContaining({ message: "two children share the id 'a'", details: { childId: 'a' } }),
    );
    expect(runtime.processes()).toEqual([]);
  });

  it('names what is missing when the options, the children or a child id are not given, and starts nothing', () => {
    const runtime = createRuntime();
    const attempts: [unknown, string, object][] = [
      [undefined, 'Supervisor.start needs an object, got undefined', { got: 'undefined' }],
      [
        { name: 'sup' },
        "supervisor option 'children' must be an array of child specs; got undefined",
        { option: 'children', expected: 'an array of child specs', got: 'undefined' },
      ],
      [
        { children: [{ start: counter('a').start }] },
        "child spec option 'id' must be a non-empty string; got undefined",
        { option: 'id', expected: 'a non-empty string', got: 'undefined' },
      ],
      [
        { children: [{ ...counter('a'), id: '' }] },
        "child spec '' option 'id' must be a non-empty string; got ''",
        { option: 'id', got: "''" },
      ],
      [{ children: ['a'] }, "child spec needs an object, got 'a'", { got: "'a'" }],
    ];
    for (const [options, message, details] of attempts) {
      const start = (): Supervisor => Supervisor.start(runtime, options as SupervisorOptions);
      expect(start, message).toThrow(ValidationError);
      expect(start, message).toThrow(expect.objectContaining({ message, details: expect.objectContaining(details) }));
    }
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses to start on something that is no runtime, naming what it got', () => {
    for (const [host, got] of [
      [undefined, 'undefined'],
      [null, 'null'],
      [{}, 'object'],
    ] as const) {
      const start = (): Supervisor => Supervisor.start(host as never, { children: [counter('a')] });
      expect(start).toThrow(ValidationError);
      expect(start).toThrow(
        expect.objectContaining({
          message: `a supervisor starts on a Runtime or a ProcessRuntime, got ${got}`,
          details: { field: 'runtime', got },
        }),
      );
      expect(() => DynamicSupervisor.start(host as never)).toThrow(
        `a supervisor starts on a Runtime or a ProcessRuntime`,
      );
    }
  });

  it('throws ChildStartError and stops the children already started when a child fails to start', () => {
    const runtime = createRuntime();
    const failing: ChildSpec = { id: 'bad', start: () => ({ logic: crashOnStartMachine }) };
    let error: unknown;
    try {
      Supervisor.start(runtime, { name: 'sup', children: [counter('a'), failing, counter('c')] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChildStartError);
    expect(error).toMatchObject({ childId: 'bad', supervisor: 'sup', cause: new Error('cannot start') });
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses intensity limits that could never be reached, and starts nothing', () => {
    const runtime = createRuntime();
    for (const limits of [{ maxSeconds: Number.NaN }, { maxRestarts: Number.POSITIVE_INFINITY }, { maxRestarts: -1 }])
      expect(() => startAbc(runtime, { name: 'sup', ...limits })).toThrow(ValidationError);
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses an unknown strategy, restart type or key with ValidationError naming it, and starts nothing', () => {
    const runtime = createRuntime();
    const attempts: [unknown, RegExp][] = [
      [{ strategy: 'one_for_al' }, /option 'strategy' must be one of 'one_for_one', .*got 'one_for_al'/],
      [{ maxRestart: 0 }, /unknown option maxRestart; accepted: /],
      [{ children: [{ ...counter('a'), restart: 'permanant' }] }, /child spec 'a' option 'restart' .*got 'permanant'/],
      [{ children: [{ ...counter('a'), restar: 'temporary' }] }, /child spec 'a' got unknown key restar/],
      [{ children: [{ id: 'a' }] }, /child spec 'a' option 'start' must be a function/],
    ];
    for (const [options, message] of attempts) {
      const start = (): Supervisor => startAbc(runtime, { name: 'sup', ...(options as Partial<SupervisorOptions>) });
      expect(start).toThrow(ValidationError);
      expect(start).toThrow(message);
    }
    expect(runtime.processes()).toEqual([]);
  });

  it('refuses a key start() returns that spawn does not take, as spawn does: a misspelt name starts no child', () => {
    const runtime = createRuntime();
    const misspelt: ChildSpec = { id: 'cache', start: () => ({ logic: counterMachine, nmae: 'cache' }) as ChildStart };
    const start = (): Supervisor => Supervisor.start(runtime, { children: [misspelt] });
    expect(start).toThrow(ChildStartError);
    expect(start).toThrow(
      /could not start child 'cache': a child spec start\(\) got unknown key nmae; accepted: logic/,
    );
    expect(runtime.processes()).toEqual([]);
    // The same for a dynamic child.
    const dynamic = DynamicSupervisor.start(runtime);
    expect(() => dynamic.startChild({ start: misspelt.start })).toThrow(/unknown key nmae/);
    expect(dynamic.count).toBe(0);
  });

  it('names what start() must return when it returns no object, as a block-bodied arrow without return does', () => {
    // It said "a child spec start() options must be an object": no options were given anywhere.
    const runtime = createRuntime();
    const forgotten: ChildSpec = {
      id: 'cache',
      start: () => {
        void { logic: counterMachine };
      },
    } as never;
    const start = (): Supervisor => Supervisor.start(runtime, { children: [counter('a'), forgotten] });
    expect(start).toThrow(ChildStartError);
    expect(start).toThrow(
      "could not start child 'cache': a child spec's start() must return { logic, ... } or { process }, got undefined",
    );
    expect(runtime.processes()).toEqual([]);
    const dynamic = DynamicSupervisor.start(runtime);
    let error: unknown;
    try {
      dynamic.startChild({ start: () => 5 as never });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'child_start_failed',
      cause: { code: 'validation_failed', details: { field: 'start', got: '5' } },
    });
    expect(dynamic.count).toBe(0);
  });

  it('refuses an onError that is no function, and an inspect that is no inspector, when a process runtime is made', () => {
    expect(() => new ProcessRuntime({ onError: 5 as unknown as () => void })).toThrow(
      "ProcessRuntime option 'onError' must be a function, got a number",
    );
    expect(() => new ProcessRuntime({ inspect: {} as never })).toThrow(
      "ProcessRuntime option 'inspect' must be a function or an observer with a next function, got an object without a next function",
    );
    expect(() => new ProcessRuntime({ inspect: { next: () => {} } })).not.toThrow();
  });

  it('refuses to start on something that is no runtime, with a typed error', () => {
    for (const start of [
      () => Supervisor.start(null as never, { children: [] }),
      () => DynamicSupervisor.start(undefined as never),
    ])
      expect(start).toThrow(
        expect.objectContaining({ code: 'validation_failed', details: expect.objectContaining({ field: 'runtime' }) }),
      );
  });
});
