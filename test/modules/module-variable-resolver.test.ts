import { afterEach, describe, expect, it } from 'vitest';
import { UnknownModuleError, ValidationError } from '../../src/errors.js';
import {
  ChainOfThought,
  ModuleRegistry,
  ModuleVariableResolver,
  Predict,
  ProgramOfThought,
  ReAct,
  VariableAwareChainOfThought,
  VariableAwarePredict,
  createEchoModel,
  createVariableAwareModule,
  type CreateVariableAwareModuleOptions,
  type ModuleVariableResolverOptions,
} from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';

const SIGNATURE = 'question:string -> answer:string';
const resolvers: ModuleVariableResolver[] = [];

/** A resolver on its own registry, so no test sees another's registrations. */
function setup(initial: Record<string, unknown> = {}) {
  const session = new FakeSession('resolver-session', initial);
  const registry = ModuleRegistry.withBuiltins();
  const resolver = new ModuleVariableResolver(session, { registry });
  resolvers.push(resolver);
  return { session, registry, resolver };
}

afterEach(async () => {
  await Promise.all(resolvers.splice(0).map((r) => r.close()));
});

describe('ModuleVariableResolver', () => {
  it('maps ChainOfThought, chainofthought and COT to the same module', async () => {
    const { session, resolver } = setup({ reasoning_module: 'ChainOfThought' });
    expect(await resolver.resolveModule('reasoning_module')).toBe(ChainOfThought);
    await session.setVariable('reasoning_module', 'chainofthought');
    expect(await resolver.resolveModule('reasoning_module')).toBe(ChainOfThought);
    await session.setVariable('reasoning_module', 'COT');
    expect(await resolver.resolveModule('reasoning_module')).toBe(ChainOfThought);
  });

  it('maps PoT to ProgramOfThought', async () => {
    const { resolver } = setup({ m: 'PoT' });
    expect(await resolver.resolveModule('m')).toBe(ProgramOfThought);
  });

  it('maps an unknown name to UnknownModuleError "Unknown module type"', async () => {
    const { resolver } = setup({ m: 'TreeOfThought' });
    const failure = resolver.resolveModule('m');
    await expect(failure).rejects.toBeInstanceOf(UnknownModuleError);
    await expect(resolver.resolveModule('m')).rejects.toThrow(/Unknown module type/);
  });

  it('takes a name in any case, with _ or - anywhere, and no other character in it', async () => {
    for (const name of ['chain_of_thought', 'Chain-Of-Thought', 'CHAINOFTHOUGHT', '-c_o-t_']) {
      const { resolver } = setup({ m: name });
      expect(await resolver.resolveModule('m'), name).toBe(ChainOfThought);
    }
    // Every other character counted for nothing: these were Predict, and stored and shown as sent.
    for (const name of ['Pre\ndict', 'Pre dict', 'Predict!', 'Pre\u200bdict']) {
      const { resolver } = setup({ m: name });
      await expect(resolver.resolveModule('m'), JSON.stringify(name)).rejects.toBeInstanceOf(UnknownModuleError);
    }
  });

  it('refuses a variable that does not hold a name', async () => {
    const { resolver } = setup({ m: 42 });
    await expect(resolver.resolveModule('m')).rejects.toBeInstanceOf(ValidationError);
    // Named by the variable that holds it: the caller never gave the number as a type name.
    await expect(resolver.resolveModule('m')).rejects.toMatchObject({
      message: "variable 'm' holds 42, not a module type name",
      variable: 'm',
    });
  });

  it('createModule builds the variable-aware class bound to the session', async () => {
    const { session, resolver } = setup({ m: 'cot', llm_temperature: 0.3 });
    const module = await resolver.createModule('m', SIGNATURE, { llm: createEchoModel() });
    expect(module).toBeInstanceOf(VariableAwareChainOfThought);
    expect(module.session).toBe(session);
    await module.bindToVariable('temperature', 'llm_temperature');
    const result = await module.forward({ question: 'why?' });
    expect(result.reasoning).toContain('temperature=0.3');
  });

  it('invalidates its cache when the module variable changes', async () => {
    const { session, resolver } = setup({ m: 'Predict' });
    expect(await resolver.resolveModule('m')).toBe(Predict);
    const readsBefore = session.reads;
    expect(await resolver.resolveModule('m')).toBe(Predict);
    await session.setVariable('m', 'ReAct');
    expect(await resolver.resolveModule('m')).toBe(ReAct);
    expect(session.reads).toBe(readsBefore);
    expect(session.watchCount).toBe(1);
    await resolver.close();
    expect(session.watchCount).toBe(0);
  });

  it('does not keep a type read while the variable was being written: the next resolve reads the new one', async () => {
    const { session, resolver } = setup({ m: 'Predict' });
    const read = session.getVariable.bind(session);
    let taken!: () => void;
    const valueTaken = new Promise<void>((resolve) => (taken = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    session.getVariable = async (name) => {
      const value = await read(name);
      taken();
      await held;
      return value;
    };
    const first = resolver.resolveModule('m');
    await valueTaken;
    await session.setVariable('m', 'ReAct');
    release();
    expect(await first).toBe(Predict);
    expect(await resolver.resolveModule('m')).toBe(ReAct);
  });

  it('resolves afresh after close, once per call: no watch is left to tell it of a change', async () => {
    const { session, resolver } = setup({ m: 'Predict' });
    expect(await resolver.resolveModule('m')).toBe(Predict);
    await resolver.close();
    await session.setVariable('m', 'ReAct');
    expect(await resolver.resolveModule('m')).toBe(ReAct);
    await session.setVariable('m', 'PoT');
    expect(await resolver.resolveModule('m')).toBe(ProgramOfThought);
    expect(session.watchCount).toBe(0);
  });

  it('watches again after a watch that failed to start, rather than failing every later resolve', async () => {
    const { session, resolver } = setup({ m: 'Predict' });
    const watch = session.watchVariables.bind(session);
    session.watchVariables = async () => {
      throw new Error('store unreachable');
    };
    await expect(resolver.resolveModule('m')).rejects.toThrow('store unreachable');
    session.watchVariables = watch;
    expect(await resolver.resolveModule('m')).toBe(Predict);
    expect(session.watchCount).toBe(1);
    await session.setVariable('m', 'ReAct');
    expect(await resolver.resolveModule('m')).toBe(ReAct);
  });

  it('refuses an unknown option, options that are no object and a registry that is none, as its type does', () => {
    const session = new FakeSession('resolver-session', {});
    const refusals: [unknown, string][] = [
      [
        { registery: ModuleRegistry.withBuiltins() },
        'ModuleVariableResolver got unknown option registery; accepted: registry',
      ],
      [null, 'ModuleVariableResolver options must be an object, got null'],
      [{ registry: 'builtins' }, "ModuleVariableResolver option 'registry' must be a ModuleRegistry, got a string"],
    ];
    for (const [options, message] of refusals) {
      const make = () => new ModuleVariableResolver(session, options as ModuleVariableResolverOptions);
      expect(make, message).toThrow(ValidationError);
      expect(make, message).toThrow(message);
    }
  });

  it('lists the available modules of its registry', () => {
    const { resolver } = setup();
    expect(resolver.getAvailableModules()).toEqual([
      'Predict',
      'ChainOfThought',
      'ChainOfThoughtWithHint',
      'ReAct',
      'ProgramOfThought',
      'BestOfN',
      'Refine',
      'MultiChainComparison',
    ]);
    expect(ModuleVariableResolver.getAvailableModules()).toContain('ChainOfThought');
  });

  it('registers a module type in an isolated registry, applying the mixin when none is given', async () => {
    class Summarize extends Predict {
      static override readonly moduleType: string = 'Summarize';
    }
    const { registry, resolver } = setup({ m: 'SUMMARIZE' });
    registry.register('Summarize', Summarize);
    expect(await resolver.resolveModule('m')).toBe(Summarize);
    const module = await resolver.createModule('m', 'document:string -> summary:string', { llm: createEchoModel() });
    expect(module).toBeInstanceOf(Summarize);
    expect(typeof module.bindToVariable).toBe('function');
    expect(ModuleRegistry.withBuiltins().has('Summarize')).toBe(false);
  });

  it('refuses a type named like an alias and an alias named like a type, which would hide one of them', () => {
    const registry = ModuleRegistry.withBuiltins();
    expect(() => registry.register('cot', Predict)).toThrow(
      expect.objectContaining({ code: 'already_exists', message: "module alias 'cot' already exists" }),
    );
    expect(() => registry.alias('predict', 'ChainOfThought')).toThrow(
      expect.objectContaining({ code: 'already_exists', message: "module type 'predict' already exists" }),
    );
    expect(registry.resolve('COT').moduleClass).toBe(ChainOfThought);
    expect(registry.resolve('Predict').moduleClass).toBe(Predict);
    // An alias is a name the registry has, in any spelling; an unregistered one is not.
    expect(['COT', 'p-o-t', 'predict'].map((name) => registry.has(name))).toEqual([true, true, true]);
    expect(registry.has('Telepathy')).toBe(false);
  });

  it('refuses a name that is no string and a class that is no class with ValidationError, registering nothing', () => {
    const registry = ModuleRegistry.withBuiltins();
    const names = registry.names();
    const refusal = (call: () => unknown): unknown => {
      try {
        call();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [call, message] of [
      [() => registry.register('Summarize', 5 as never), "register('Summarize'): moduleClass must be a class, got 5"],
      [
        () => registry.register('Summarize', Predict, {} as never),
        "register('Summarize'): variableAwareClass must be a class, got an object",
      ],
      [() => registry.register(5 as never, Predict), 'a module type name must be a string, got 5'],
      // Names with no key: a spec's `type: ''` would have selected them.
      [() => registry.register('__', Predict), "module name '__' has no character other than '_' and '-'"],
      [() => registry.register('', Predict), "module name '' has no character other than '_' and '-'"],
      [() => registry.alias('-', 'Predict'), "module name '-' has no character other than '_' and '-'"],
      // createVariableAwareModule(session) with no type resolved `undefined`: a TypeError before.
      [() => registry.resolve(undefined as never), 'a module type name must be a string, got undefined'],
    ] as const) {
      const error = refusal(call);
      expect(error, message).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toBe(message);
    }
    expect(registry.names()).toEqual(names);
    expect(registry.has('')).toBe(false);
  });
});

describe('createVariableAwareModule', () => {
  it('applies its bindings', async () => {
    const session = new FakeSession('convenience', { llm_temperature: 0.6, max_tokens: 128 });
    const module = await createVariableAwareModule(session, 'predict', SIGNATURE, {
      llm: createEchoModel(),
      variableBindings: { temperature: 'llm_temperature', maxTokens: 'max_tokens' },
    });
    expect(module).toBeInstanceOf(VariableAwarePredict);
    expect(module.getBindings()).toEqual({ temperature: 'llm_temperature', maxTokens: 'max_tokens' });
    expect(module.temperature).toBe(0.6);
    expect(module.maxTokens).toBe(128);
    const result = await module.forward({ question: 'q' });
    expect(result.provenance).toEqual({ llm_temperature: 1, max_tokens: 1 });
  });

  it('refuses an unknown option, naming its own, and a session among the options, before building anything', async () => {
    const session = new FakeSession('convenience', { llm_temperature: 0.6 });
    const refusals: [unknown, RegExp][] = [
      [
        { variableBinding: { temperature: 'llm_temperature' } },
        /^createVariableAwareModule got unknown option variableBinding; accepted: .*variableBindings, registry$/,
      ],
      [{ session }, /^createVariableAwareModule got unknown option session; accepted: /],
      [{ registry: {} }, /^createVariableAwareModule option 'registry' must be a ModuleRegistry, got an object$/],
    ];
    for (const [options, message] of refusals) {
      const made = createVariableAwareModule(
        session,
        'Predict',
        SIGNATURE,
        options as CreateVariableAwareModuleOptions,
      );
      await expect(made).rejects.toBeInstanceOf(ValidationError);
      await expect(made).rejects.toThrow(message);
    }
    expect(session.reads).toBe(0);
  });

  it('fails on an unknown type and on a missing bound variable', async () => {
    const session = new FakeSession('convenience', {});
    await expect(createVariableAwareModule(session, 'Nope', SIGNATURE, { llm: createEchoModel() })).rejects.toThrow(
      /Unknown module type/,
    );
    await expect(
      createVariableAwareModule(session, 'Predict', SIGNATURE, {
        llm: createEchoModel(),
        variableBindings: { temperature: 'missing' },
      }),
    ).rejects.toThrow(/not found/);
  });
});
