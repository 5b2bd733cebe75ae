/**
 * The option bags of the library's module classes (`new Predict(signature, options)`, the variable-aware classes) are
 * checked at run time as their types are at compile time: found in the types audit, `new VariableAwarePredict(sig,
 * { sesion })` and `new Predict(sig, { temprature: 0.2 })` were taken, the misspelt option read as absent (no session,
 * the default temperature), where a strict TypeScript caller is refused at compile time. A class of the user's may
 * take options of its own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { assertModuleSpec } from '../../src/modules/module-spec.js';
import { parseWireSpec } from '../../src/nats/module-wire-spec.js';
import {
  ChainOfThought,
  Predict,
  VariableAwareChainOfThought,
  VariableAwareMixin,
  VariableAwarePredict,
  createEchoModel,
  type ForwardOptions,
  type ModuleOptions,
} from '../../src/modules/index.js';
import { FakeSession } from '../support/fake-session.js';

const SIGNATURE = 'question:string -> answer:string';
const llm = createEchoModel();

/** What `make` throws, or `undefined`. */
function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('module options', () => {
  it('refuses an unknown constructor option, naming the class and the option', () => {
    const session = new FakeSession();
    const cases: [string, () => unknown][] = [
      ['Predict', () => new Predict(SIGNATURE, { llm, temprature: 0.2 } as ModuleOptions)],
      ['ChainOfThought', () => new ChainOfThought(SIGNATURE, { llm, maxToken: 8 } as ModuleOptions)],
      ['VariableAwarePredict', () => new VariableAwarePredict(SIGNATURE, { llm, sesion: session } as ModuleOptions)],
      [
        'VariableAwareChainOfThought',
        () => new VariableAwareChainOfThought(SIGNATURE, { llm, onSyncErr: () => {} } as ModuleOptions),
      ],
    ];
    for (const [owner, make] of cases) {
      const error = thrown(make);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(
        new RegExp(`^${owner} got unknown option \\w+; accepted: llm`),
      );
      expect((error as ValidationError).details.unknown).toHaveLength(1);
    }
  });

  // A class of the user's may take options of its own and hand its whole bag on, as its options type (extending
  // ModuleOptions) lets it compile: refusing its keys would fail it at run time only.
  it("takes a user's subclass's own options, handed on with the module's", () => {
    interface SummarizeOptions extends ModuleOptions {
      readonly style: 'short' | 'long';
    }
    class Summarize extends VariableAwareMixin(Predict) {
      readonly style: string;
      constructor(signature: string, options: SummarizeOptions) {
        super(signature, options);
        this.style = options.style;
      }
    }
    const summarize = new Summarize(SIGNATURE, { llm, style: 'short', temperature: 0.3 });
    expect(summarize.style).toBe('short');
    expect(summarize.temperature).toBe(0.3);
    expect(thrown(() => new Summarize(SIGNATURE, null as unknown as SummarizeOptions))).toMatchObject({
      code: 'validation_failed',
      message: 'Summarize options must be an object, got null',
    });
  });

  it('refuses options that are no object, and an onSyncError that is no function', () => {
    const refusals: [() => unknown, string][] = [
      [() => new Predict(SIGNATURE, null as unknown as ModuleOptions), 'Predict options must be an object, got null'],
      [
        () => new Predict(SIGNATURE, 'fast' as unknown as ModuleOptions),
        'Predict options must be an object, got a string',
      ],
      [
        () => new VariableAwarePredict(SIGNATURE, { llm, onSyncError: 5 } as unknown as ModuleOptions),
        "VariableAwarePredict option 'onSyncError' must be a function, got a number",
      ],
    ];
    for (const [make, message] of refusals) {
      const error = thrown(make);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toBe(message);
    }
  });

  it('takes every option its type names', () => {
    const module = new VariableAwarePredict(SIGNATURE, {
      llm,
      session: new FakeSession(),
      onSyncError: () => {},
      temperature: 0.2,
      maxTokens: 8,
      maxRetries: 0,
    });
    expect(module.temperature).toBe(0.2);
  });

  it('refuses an unknown forward option, options that are no object, and a hook of the wrong kind, as a rejection', async () => {
    const session = new FakeSession();
    await session.setVariable('llm_temperature', 0.5);
    const aware = new VariableAwarePredict(SIGNATURE, { llm, session });
    await aware.bindToVariable('temperature', 'llm_temperature');
    const plain = new Predict(SIGNATURE, { llm });
    const inputs = { question: 'q' };
    for (const [module, owner] of [
      [plain, 'forward'],
      [aware, 'forward'],
    ] as const) {
      const refusals: [unknown, string][] = [
        [{ autoSinc: false }, `${owner} got unknown option autoSinc; accepted: autoSync`],
        [null, `${owner} options must be an object, got null`],
        [{ onDelta: 'log' }, `${owner} option 'onDelta' must be a function, got a string`],
        [{ autoSync: 'false' }, `${owner} option 'autoSync' must be true or false, got a string`],
        [{ abortSignal: {} }, `${owner} option 'abortSignal' must be an AbortSignal, got an object`],
      ];
      for (const [options, message] of refusals) {
        const error: unknown = await module.forward(inputs, options as ForwardOptions).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).message.startsWith(message)).toBe(true);
      }
    }
    // Nothing was synced nor run for them: the module's one read is its binding's.
    expect(session.reads).toBe(1);
    expect((await aware.forward(inputs, { autoSync: true, onDelta: () => {} })).provenance).toEqual({
      llm_temperature: 1,
    });
  });

  // An Ax program moved onto a module brings what Ax takes and Tether does not: each is refused naming it, whether it
  // comes in a spec (embedded or over the wire), a constructor's options or a forward's, and the README says so (it
  // did not: an Ax user read "unknown keys: demos" without knowing whether few-shot demos had another name). Few-shot
  // `examples` are taken now (module-examples.test.ts).
  it("refuses Ax's features that a module does not take, naming each, and the README lists them", async () => {
    const spec = { type: 'Predict', signature: SIGNATURE };
    const refused: Record<string, unknown> = {
      demos: [],
      asserts: [],
      fieldProcessors: [],
      functions: [],
      modelConfig: { temperature: 0.2 },
      stream: true,
      sampleCount: 2,
      showThoughts: true,
    };
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const unsupported = /What Tether does not take of Ax:(.*?)not ignored/.exec(readme)?.[1] ?? '';
    for (const [key, value] of Object.entries(refused)) {
      const attempts: [string, () => unknown][] = [
        ['spec', () => assertModuleSpec({ ...spec, [key]: value })],
        ['wire spec', () => parseWireSpec({ ...spec, [key]: value })],
        ['constructor', () => new Predict(SIGNATURE, { llm, [key]: value } as ModuleOptions)],
      ];
      for (const [where, attempt] of attempts) {
        const error = thrown(attempt);
        expect(error, `${key} in a ${where}`).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details.unknown, `${key} in a ${where}`).toEqual([key]);
      }
      const forwarded: unknown = await new Predict(SIGNATURE, { llm })
        .forward({ question: 'q' }, { [key]: value } as ForwardOptions)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((forwarded as ValidationError).details.unknown, `${key} in a forward`).toEqual([key]);
      expect(unsupported, `README names ${key}`).toContain(`\`${key}\``);
    }
  });
});
