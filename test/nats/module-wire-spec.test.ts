import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Runtime,
  ValidationError,
  createSubjects,
  defaultModuleRegistry,
  parseWireSpec,
  toWireSpec,
  type ModuleTool,
  type Session,
} from '../../src/index.js';

const spec = { type: 'Predict', signature: 'question:string -> answer:string' };
const echo: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };

describe('module wire spec', () => {
  it('turns a spec into JSON with variable names for bindings and keeps the parameters', () => {
    const wire = toWireSpec({
      ...spec,
      bindings: { temperature: 'llm_temperature', maxTokens: { variable: 'max_tokens' } },
      tools: ['echo'],
      temperature: 0.2,
      n: 3,
    });
    expect(wire).toEqual({
      ...spec,
      bindings: { temperature: 'llm_temperature', maxTokens: 'max_tokens' },
      tools: ['echo'],
      temperature: 0.2,
      n: 3,
    });
    expect(parseWireSpec(JSON.parse(JSON.stringify(wire)))).toEqual(wire);
  });

  it('refuses what only an embedded spec can hold, saying so', () => {
    expect(() => toWireSpec({ ...spec, reward: () => 1 })).toThrow(/reward.*embedded/);
    expect(() => toWireSpec({ ...spec, pick: () => 0 })).toThrow(/pick.*embedded/);
    expect(() => toWireSpec({ ...spec, bindings: { temperature: { variable: 't', onChange: () => {} } } })).toThrow(
      /onChange/,
    );
    expect(() => toWireSpec({ ...spec, tools: [echo] })).toThrow(/by name/);
    expect(() => parseWireSpec({ ...spec, reward: 'anything' })).toThrow(ValidationError);
    // Said of what the field takes, whatever the JSON holds there: a number is no function either.
    expect(() => parseWireSpec({ ...spec, reward: 1 })).toThrow(
      "module spec field 'reward' takes a function, which only an embedded module can have: it cannot be sent over NATS",
    );
    expect(() => parseWireSpec({ ...spec, tools: [{ name: 'echo' }] })).toThrow(/tool names/);
    // Named by where it is, as an embedded spec's is.
    expect(() => parseWireSpec({ ...spec, tools: ['echo', 1] })).toThrow(
      expect.objectContaining({ details: { field: 'tools[1]' } }),
    );
    expect(() => parseWireSpec({ ...spec, tools: 'echo' })).toThrow(
      expect.objectContaining({ details: { field: 'tools' } }),
    );
    expect(() => parseWireSpec({ ...spec, bindings: { temperature: { variable: 't' } } })).toThrow(
      /variable name over the wire/,
    );
    expect(() => parseWireSpec('Predict')).toThrow(ValidationError);
  });

  // Found by a review: the refusal listed reward and pick, which the wire then refuses as embedded-only.
  it('lists, when it refuses an unknown key, only the keys a spec may have over the wire', () => {
    let refusal: unknown;
    try {
      parseWireSpec({ ...spec, wat: 1 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    const { message, details } = refusal as ValidationError;
    expect(details).toMatchObject({
      field: 'spec',
      unknown: ['wat'],
      accepted: expect.arrayContaining(['tools', 'n']),
    });
    expect((details as { accepted: string[] }).accepted).not.toEqual(expect.arrayContaining(['reward']));
    expect((details as { accepted: string[] }).accepted).not.toEqual(expect.arrayContaining(['pick']));
    expect(message).toMatch(/^module spec has unknown keys: wat; accepted: type, /);
    expect(message).not.toMatch(/\b(reward|pick)\b/);
  });

  // A client (and `tether module create --spec`) checks the spec with toWireSpec before it sends it: its refusal listed
  // reward and pick, which it then refuses as embedded-only, where the node's did not.
  it('lists, when a client refuses an unknown key before sending, only the keys a spec may have over the wire', () => {
    let refusal: unknown;
    try {
      toWireSpec({ ...spec, wat: 1 } as typeof spec);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ValidationError);
    const { message, details } = refusal as ValidationError;
    expect(message).toMatch(/^module spec has unknown keys: wat; accepted: type, /);
    expect(message).not.toMatch(/\b(reward|pick)\b/);
    expect((details as { accepted: string[] }).accepted).not.toEqual(expect.arrayContaining(['reward']));
    // A spec that holds one is still told why it cannot travel; one that holds it undefined (JavaScript) still travels.
    expect(() => toWireSpec({ ...spec, reward: () => 1 })).toThrow(/reward.*embedded/);
    const unset = { ...spec, pick: undefined } as unknown as typeof spec;
    expect(toWireSpec(unset)).toEqual(unset);
  });

  it('refuses BestOfN and Refine, in any spelling, as embedded-only: they need a reward function', () => {
    for (const type of ['BestOfN', 'best_of_n', 'Refine', 'REFINE']) {
      const refusal = (() => {
        try {
          parseWireSpec({ type, signature: spec.signature });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refusal, type).toBeInstanceOf(ValidationError);
      expect((refusal as ValidationError).code).toBe('validation_failed');
      expect((refusal as ValidationError).message).toMatch(
        /^module type '(BestOfN|Refine)' needs a reward function, and a function cannot be sent over NATS: BestOfN and Refine can only be created embedded/,
      );
      expect((refusal as ValidationError).details).toEqual({ field: 'type', constraint: 'embeddedOnly' });
    }
    // The types that need no function travel, ChainOfThoughtWithHint among them.
    for (const type of ['ChainOfThoughtWithHint', 'MultiChainComparison'])
      expect(parseWireSpec({ type, signature: spec.signature })).toEqual({ type, signature: spec.signature });
  });

  it("refuses as embedded-only exactly the registry's types that need a reward", () => {
    // The wire keeps its own list (it must not load the registry, which loads Ax): the two must not drift apart.
    for (const type of defaultModuleRegistry.names()) {
      const needsReward = defaultModuleRegistry.resolve(type).needs.includes('reward');
      const parse = () => parseWireSpec({ type, signature: spec.signature, tools: ['echo'] });
      if (needsReward) expect(parse, type).toThrow(/needs a reward function/);
      else expect(parse, type).not.toThrow();
    }
    expect(defaultModuleRegistry.selectable({ tools: ['echo'] })).not.toContain('BestOfN');
  });
});

describe('module subjects', () => {
  it('builds and parses the module subjects, and nothing else', () => {
    const s = createSubjects();
    expect(s.module('s1', 'qa', 'execute')).toBe('tether.v1.session.s1.module.qa.execute');
    expect(s.moduleList('s1')).toBe('tether.v1.session.s1.module.list');
    expect(s.moduleEndpoint('create')).toBe('tether.v1.session.*.module.*.create');
    expect(s.moduleEndpoint('list')).toBe('tether.v1.session.*.module.list');
    expect(s.moduleControl('s1', 'qa', 'cancel')).toBe('tether.v1.control.s1.module.qa.cancel');
    expect(s.moduleControls()).toBe('tether.v1.control.*.module.*.*');
    expect(s.moduleEvents('s1')).toBe('tether.v1.events.s1.module.*');
    expect(s.parseModuleRequest('tether.v1.session.s1.module.qa.stop')).toEqual({
      kind: 'module',
      sessionId: 's1',
      moduleId: 'qa',
      operation: 'stop',
    });
    expect(s.parseModuleRequest('tether.v1.session.s1.module.list')).toEqual({ kind: 'list', sessionId: 's1' });
    expect(s.parseModuleRequest('tether.v1.session.s1.module.list.execute')).toEqual({
      kind: 'module',
      sessionId: 's1',
      moduleId: 'list',
      operation: 'execute',
    });
    expect(s.parseModuleRequest('tether.v1.session.s1.module.qa.update')).toBeUndefined();
    expect(s.parseModuleRequest('tether.v1.session.s1.var.set')).toBeUndefined();
    expect(s.parseModuleControl('tether.v1.control.s1.module.qa.stop')).toEqual({
      sessionId: 's1',
      moduleId: 'qa',
      operation: 'stop',
    });
    expect(s.parseModuleControl('tether.v1.control.s1.module.qa.execute')).toBeUndefined();
    expect(() => s.module('s1', 'a.b', 'execute')).toThrow(ValidationError);
  });
});

describe('tool names in embedded specs', () => {
  let runtime: Runtime;
  let session: Session;

  beforeEach(async () => {
    runtime = await Runtime.start({ tools: [echo] });
    session = await runtime.session('tools');
  });
  afterEach(() => runtime.stop());

  it('resolves a tool name against the runtime tools, and refuses an unknown one at creation', async () => {
    const agent = await session.module('agent', {
      type: 'ReAct',
      signature: 'question:string -> answer:string',
      tools: ['echo'],
    });
    expect((await agent.describe()).moduleType).toBe('ReAct');
    const error = await session
      .module('other', { type: 'ReAct', signature: 'question:string -> answer:string', tools: ['search'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe("unknown tool 'search'; this node was started with the tools echo");
    expect(error).toMatchObject({ details: { field: 'tools[0]', tool: 'search', available: ['echo'] } });
    expect((await session.modules()).map((m) => m.moduleId)).toEqual(['agent']);
  });

  // Found in review: a `tether serve` node, started without --tools, pointed its CLI user at Runtime.start alone.
  it('refuses a tool name on a node started with no tools, naming both ways to start one with tools', async () => {
    const bare = await Runtime.start();
    try {
      const other = await bare.session('no-tools');
      const error = await other
        .module('agent', { type: 'ReAct', signature: 'question:string -> answer:string', tools: ['nosuch'] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toBe(
        "unknown tool 'nosuch'; this node was started with no tools (Runtime.start({ tools }), or tether serve --tools)",
      );
    } finally {
      await bare.stop();
    }
  });

  it('refuses runtime tools without a func or with one name twice, naming the tool and where it is', async () => {
    const twice = await Runtime.start({ tools: [echo, { ...echo }] }).catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(ValidationError);
    expect(twice).toMatchObject({ message: "two runtime tools are named 'echo'", details: { tool: 'echo' } });
    // Among the tools of a file (tether serve --tools), the one without a func is named, not shown as "an object".
    const noFunc = { name: 'search', description: 'no func' } as unknown as ModuleTool;
    const unnamed = await Runtime.start({ tools: [echo, noFunc] }).catch((e: unknown) => e);
    expect(unnamed).toBeInstanceOf(ValidationError);
    expect(unnamed).toMatchObject({
      message: "runtime tool 'search' (tools[1]) needs a func, got undefined",
      details: { field: 'tools[1]', tool: 'search' },
    });
    const nameless = await Runtime.start({ tools: [echo, { func: () => 1 } as unknown as ModuleTool] }).catch(
      (e: unknown) => e,
    );
    expect(nameless).toBeInstanceOf(ValidationError);
    expect(nameless).toMatchObject({
      message: 'runtime tools need a name and a func; tools[1] is an object without a name',
      details: { field: 'tools[1]' },
    });
    const numbered = { ...echo, name: 5 } as unknown as ModuleTool;
    await expect(Runtime.start({ tools: [numbered] })).rejects.toMatchObject({
      message: 'runtime tools need a name and a func; tools[0] is an object whose name is 5',
    });
    const notATool = await Runtime.start({ tools: [null as unknown as ModuleTool] }).catch((e: unknown) => e);
    expect(notATool).toMatchObject({
      code: 'validation_failed',
      message: 'runtime tools need a name and a func; tools[0] is null',
    });
  });
});
