/**
 * Runs one module execution on Ax. Each program kind maps onto what Ax 24 actually offers (it has no
 * ChainOfThought/ReAct classes): a generator with an extra visible field, with tools, wrapped by bestOfN/refine,
 * sampled several times, or an agent with a JS runtime.
 * @module
 */
import { agent, bestOfN, f, refine } from '@ax-llm/ax';
import type { AxFunction, AxGen, AxGenIn, AxGenOut, AxProgramForwardOptions, AxSignature as Sig } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import type { ExecutionUsage } from '../../machines/module.types.js';
import { applyToStep, asField, axServiceOf, sentDefaultModel, toAxFunction, toForwardOptions } from './ax-bridge.js';
import { createCodeRuntime } from './code-runtime.js';
import { assertAgentTakes, parseSignature } from './program-signature.js';
import { GeneratorPool, type Pooled } from './generator-pool.js';
import { finishTextDeltas, streamTextFields, type DeltaRelay } from './text-deltas.js';
import { InputFields } from './input-fields.js';
import type { LanguageModel } from './language-model.js';
import {
  type ExecutionParameters,
  type FieldValues,
  type ModuleParameters,
  type ModuleTool,
  type ProgramParameters,
  type RewardFunction,
  type SamplePicker,
  type DeltaListener,
  type ModuleResult,
  checkParameters,
} from './module-types.js';
import { missingFieldsError, toTetherError, withDetails } from './provider-errors.js';
import { withoutKey } from './hidden-key.js';
import { dateOutputFields, withOutputDates, type DateField } from './structured-dates.js';
import { jsonOutputFields, leavesJsonText, withParsedJson } from './structured-json.js';
import { pickByMajority } from './pick-by-majority.js';
import { assertModuleToolNames } from './tool-name.js';
import { type ProgramParameter, checkProgramSettings, checkSetting } from './setting-limits.js';
import { adviceService } from './advice-service.js';
import { onAbort } from './signal-listeners.js';
import { examplesCheck } from './examples-fit.js';
import { messageOf } from '../printable.js';
import { UsageMeter } from './usage-meter.js';

// In its own file now; re-exported so this module's exports stay as they were.
export { pickByMajority } from './pick-by-majority.js';

/** The program shapes Tether can run; a module class names one. */
export type ProgramKind =
  | 'predict'
  | 'chain_of_thought'
  | 'chain_of_thought_with_hint'
  | 'react'
  | 'program_of_thought'
  | 'best_of_n'
  | 'refine'
  | 'multi_chain_comparison';

/**
 * The kind-specific options a program takes at construction. Its {@link ProgramParameters} (`n`, `rounds`,
 * `samples`, `threshold`) are the fallback of each execution's own, which a module's attributes (or bindings)
 * supply.
 */
export interface ProgramSettings extends Readonly<ProgramParameters> {
  /** ReAct's functions; ReAct refuses to be built without at least one. */
  readonly tools?: readonly ModuleTool[];
  /** BestOfN and Refine: the score of a candidate. Required for both. */
  readonly reward?: RewardFunction;
  /** MultiChainComparison: which sample wins; the most frequent answer by default. */
  readonly pick?: SamplePicker;
}

/** Per-execution hooks the variable-aware layer supplies. */
export interface RunHooks {
  readonly abortSignal?: AbortSignal;
  /** Called before every step after the first of a multi-step program; returns the parameters to use next. */
  readonly beforeStep?: () => Promise<ModuleParameters>;
  /** Told each new piece of a text output field as the provider streams it. */
  readonly onDelta?: DeltaListener;
  /**
   * The result's `provenance`, read once the program has answered (a multi-step program's is its last step's);
   * `{}` when not given.
   */
  readonly provenance?: () => Readonly<Record<string, number>>;
}

const REASONING = 'reasoning';
/** The provenance of a module without bindings. */
const NO_PROVENANCE: ModuleResult['provenance'] = Object.freeze({});
/** Candidates, rounds and samples when neither the execution nor the constructor says. */
const DEFAULT_COUNT = 3;

/** Executes one program kind; holds the parsed signature and a small pool of idle generators. */
export class AxProgramRunner {
  readonly #kind: ProgramKind;
  readonly #signature: Sig;
  readonly #settings: ProgramSettings;
  readonly #addsReasoning: boolean;
  /** The output fields an answer must have (neither optional nor internal). */
  readonly #required: readonly string[];
  readonly #dates: readonly DateField[];
  readonly #json: readonly string[];
  readonly #functions: AxFunction[];
  readonly #inputs: InputFields;
  /** This program's idle generators, reused by its executions one at a time. */
  readonly #pool: GeneratorPool;

  constructor(kind: ProgramKind, signature: string, settings: ProgramSettings = {}) {
    // Before anything is built: Ax allocates per sample, so an unchecked count is a way to exhaust memory.
    checkProgramSettings(settings as Readonly<Record<string, unknown>>);
    this.#kind = kind;
    this.#settings = settings;
    let sig = parseSignature(signature);
    const wantsReasoning = kind === 'chain_of_thought' || kind === 'chain_of_thought_with_hint';
    this.#addsReasoning = wantsReasoning && !sig.getOutputFields().some((field) => field.name === REASONING);
    try {
      if (kind === 'chain_of_thought_with_hint') {
        sig = sig.appendInputField('hint', asField(f.string('A hint toward the answer').optional()));
      }
      // A visible leading field, not Ax's internal `reasoning!`: the internal kind is still demanded by the
      // parser while left out of the prompt, which costs a second request on every call.
      if (this.#addsReasoning) {
        sig = sig.prependOutputField(REASONING, asField(f.string('Think step by step before answering')));
      }
    } catch (cause) {
      const why = messageOf(cause);
      throw new ValidationError(`signature '${signature}' cannot take the ${kind} fields: ${why}`, {
        cause,
        details: { field: 'signature' },
      });
    }
    this.#signature = sig;
    // ProgramOfThought's agent takes none, but checks them: a type variable may swap it for a type that does.
    this.checkExamples = examplesCheck(sig);
    this.#required = sig
      .getOutputFields()
      .filter((field) => !field.isOptional && !field.isInternal)
      .map((field) => field.name);
    this.#dates = dateOutputFields(sig.getOutputFields());
    this.#json = jsonOutputFields(sig.getOutputFields());
    // Left to the check of the outcome: a ReAct step that calls a tool answers no output field (and Ax asserts on
    // every step), and MultiChainComparison's samples are asserted one by one, before the pick, where a sample
    // lacking a field is simply outvoted.
    const assertsFields = kind !== 'react' && kind !== 'multi_chain_comparison';
    this.#pool = new GeneratorPool(sig, assertsFields ? this.#required : []);
    this.#inputs = new InputFields(sig.getInputFields());
    // A spec's tools and a runtime's were checked when taken; a class built directly takes them here, where a name
    // no provider takes would otherwise fail every execution at the provider.
    assertModuleToolNames(settings.tools ?? []);
    this.#functions = (settings.tools ?? []).map(toAxFunction);
    if (kind === 'program_of_thought') assertAgentTakes(sig, signature);
    if (kind === 'react' && this.#functions.length === 0) {
      throw new ValidationError(
        // Said for every way a module is created (a spec, a class, `tether module create`): which is not known here.
        "ReAct needs at least one tool (a module spec's tools, a module class's options.tools, or tether module " +
          'create --tool <name>); ' +
          'without tools use Predict or ChainOfThought',
        { details: { field: 'tools', constraint: 'required' } },
      );
    }
    if ((kind === 'best_of_n' || kind === 'refine') && !settings.reward) {
      const name = kind === 'best_of_n' ? 'BestOfN' : 'Refine';
      throw new ValidationError(
        `${name} needs a reward function (options.reward), which only a module created embedded (in the process that runs it) can have`,
        { details: { field: 'reward', constraint: 'required' } },
      );
    }
  }

  /**
   * What is wrong with an execution's inputs for this program's signature, or `undefined` (see InputFields); with
   * `only`, what is wrong with those fields of them alone.
   */
  inputProblem(values: FieldValues, only?: readonly string[]): ValidationError | undefined {
    return only === undefined ? this.#inputs.problem(values) : this.#inputs.fieldsProblem(values, only);
  }

  /** `values` with the `Date`s of date-typed fields as the prompt writes them (see dates-as-written.ts). */
  inputsAsWritten(values: FieldValues): FieldValues {
    return this.#inputs.asWritten(values);
  }

  /** Throws unless `value` (`undefined` for none) can be this program's examples (see module-examples.ts). */
  readonly checkExamples: (value: unknown) => void;

  /** Whether this program loops over several LLM steps, so parameters are re-applied between steps. */
  get multiStep(): boolean {
    return this.#kind === 'react';
  }

  /**
   * Runs once on `llm` with exactly `params`, which are read before this returns (a module may pass itself);
   * its program parameters (`n`, `rounds`, `samples`, `threshold`) override the constructor's for this execution,
   * and a parameter it cannot take (one out of its range) is refused with a `ValidationError` before anything is
   * sent. Errors come back as Tether errors. The result is made in the same continuation that returns the generator
   * to its pool, provenance included, so a caller adds no promise of its own.
   */
  // Not async, for the same reason as #forwardKind: the runner's own layer costs each execution no microtask.
  run(
    llm: LanguageModel,
    given: FieldValues,
    params: ExecutionParameters,
    hooks: RunHooks = {},
  ): Promise<ModuleResult> {
    const signal = hooks.abortSignal;
    if (signal?.aborted) {
      return Promise.reject(toTetherError(new Error('aborted before it started'), llm.provider, signal));
    }
    const invalid = this.#inputs.problem(given);
    if (invalid) return Promise.reject(invalid);
    const values = this.#inputs.forProgram(given);
    let pooled: Pooled | undefined;
    /** The deltas of a program not taken from the pool (a ProgramOfThought's), when the execution wants them. */
    let relay: DeltaRelay | undefined;
    let forwarded: Promise<FieldValues>;
    let parsesJson = false;
    // The signal stops the program rather than going to Ax: Ax would merge it with its own per-forward signal
    // through AbortSignal.any, measured at ~40 µs per execution on Node 20 (mostly collecting its weak refs).
    // Ax's stop aborts the program's requests in flight, and its next forward if none is (see
    // GeneratorPool.release).
    let stop: (() => void) | undefined;
    let offAbort: (() => void) | undefined;
    let meter: UsageMeter;
    let requested: string | undefined;
    try {
      const service = axServiceOf(llm);
      // An attribute set on the module directly was not checked: Ax would send a temperature of 5 to the provider,
      // and spread stopSequences 'END' into ['E', 'N', 'D'].
      checkParameters(params);
      const options = toForwardOptions(params);
      requested = options.model;
      // Asked of the model this execution names, as Ax asks it.
      parsesJson = this.#json.length > 0 && leavesJsonText(this.#signature, service.getFeatures(options.model));
      // Streamed only for a listener: Ax streams by default, and its streamed parsing is the less robust one. Never a
      // ReAct's: Ax keeps one stream per forward, so the text a model writes beside a tool call would begin the answer
      // its last step gives; its deltas come from that answer, whole (see GeneratorPool.finishDeltas).
      const streams = hooks.onDelta !== undefined && this.#kind !== 'react';
      options.stream = streams;
      // Refine runs one forward per round, and Ax clears a stop when a forward ends (a failed round is just a
      // round): only the signal itself, checked by every round, ends the whole refinement.
      if (signal && this.#kind === 'refine') options.abortSignal = signal;
      if (hooks.beforeStep && this.multiStep) {
        const next = hooks.beforeStep;
        options.stepHooks = {
          beforeStep: async (ctx) => {
            if (!ctx.isFirstStep) applyToStep(ctx, await next());
          },
        };
      }
      if (this.#kind === 'program_of_thought') {
        // Its turns are its steps: without a bound, Ax's own (8) is the only one.
        const program = agent(this.#signature, {
          runtime: createCodeRuntime(),
          ...(params.maxSteps === undefined ? {} : { maxTurns: params.maxSteps }),
          ...(params.instructions === undefined ? {} : { responderOptions: { description: params.instructions } }),
        });
        // Its run has three stages, each with requests of its own (reading the context, writing the code, writing the
        // answer): every one is told the instructions.
        if (params.instructions !== undefined) {
          program.distiller.setInstruction(params.instructions);
          program.executor.setInstruction(params.instructions);
        }
        // Its answer is the responder's: the responder's generator streams the text fields to the listener.
        if (hooks.onDelta) {
          relay = { onDelta: hooks.onDelta, streamed: new Map() };
          streamTextFields(program.responder.getProgram(), this.#signature, relay);
        }
        // A meter of its own: the agent is built for this execution alone (see usage-meter.ts).
        meter = new UsageMeter(service, sentDefaultModel(llm));
        forwarded = program.forward(meter.service, values as AxGenIn, options);
        if (signal) stop = () => program.stop();
      } else {
        this.checkExamples(params.examples); // Set on the module directly, they were not checked.
        const taken = this.#pool.acquire(params.instructions, params.examples, streams);
        pooled = taken;
        taken.onDelta = hooks.onDelta;
        // The generator's own meter, kept with it: a pooled generator serves one execution at a time, so its meter
        // counts this execution's requests alone, and none is made per execution (see usage-meter.ts).
        meter = this.#pool.meterOf(taken, service, llm);
        forwarded = this.#forwardKind(taken.gen, meter.service, values as AxGenIn, options, params);
        if (signal) stop = () => taken.gen.stop();
      }
      // One listener on a signal however many forwards share it (see signal-listeners.ts).
      if (signal && stop) offAbort = onAbort(signal, stop);
    } catch (error) {
      if (pooled) this.#pool.release(pooled, signal);
      return Promise.reject(
        withoutKey(toTetherError(error, llm.provider, signal, this.#signature.getOutputFields()), llm),
      );
    }
    const settle = (): void => {
      offAbort?.();
      if (pooled) this.#pool.release(pooled, signal);
    };
    return forwarded.then(
      (result) => {
        // Before the result: a listener hears each field whole, then the execution's end.
        if (pooled) this.#pool.finishDeltas(pooled, result);
        else if (relay) finishTextDeltas(relay, this.#signature, result);
        // Read before the generator goes back to the pool, where the next execution resets its meter.
        const usage = meter.usage();
        const model = meter.model(requested);
        settle();
        const answer = parsesJson ? withParsedJson(result, this.#json) : result;
        return this.#result(answer, llm.provider, hooks.provenance?.() ?? NO_PROVENANCE, model, usage);
      },
      (error: unknown) => {
        // Read before the generator goes back to the pool: a failed execution's requests were paid for all the same.
        const usage = meter.usage();
        settle();
        const failure = toTetherError(error, llm.provider, signal, this.#signature.getOutputFields());
        throw withoutKey(usage === undefined ? failure : withDetails(failure, { usage }), llm);
      },
    );
  }

  // Not async: it only picks which promise to return, and every async layer costs each execution a microtask.
  #forwardKind(
    gen: AxGen<AxGenIn, AxGenOut>,
    service: ReturnType<typeof axServiceOf>,
    values: AxGenIn,
    options: AxProgramForwardOptions<string>,
    params: ProgramParameters,
  ): Promise<AxGenOut> {
    switch (this.#kind) {
      case 'best_of_n': {
        const n = this.#parameter(params, 'n') ?? DEFAULT_COUNT;
        return bestOfN(gen, { n, ...this.#rewardOptions(params) }).forward(service, values, options);
      }
      case 'refine': {
        const rounds = this.#parameter(params, 'rounds') ?? DEFAULT_COUNT;
        // Its advice between rounds is a request of its own: the execution's model, settings and stop go with it.
        const advice = {
          feedbackAI: adviceService(service, options),
          ...(options.modelConfig ? { feedbackModelConfig: options.modelConfig } : {}),
        };
        return refine(gen, { rounds, ...this.#rewardOptions(params), ...advice }).forward(service, values, options);
      }
      case 'multi_chain_comparison': {
        const sampleCount = this.#parameter(params, 'samples') ?? DEFAULT_COUNT;
        const pick = this.#settings.pick;
        return gen.forward(service, values, {
          ...options,
          sampleCount,
          resultPicker: async (data) => {
            if (data.type !== 'fields') return 0;
            const samples = data.results.map((r) => r.sample as FieldValues);
            const chosen = pick ? await pick(samples) : pickByMajority(samples);
            return data.results[chosen]?.index ?? 0;
          },
        });
      }
      case 'react':
        return gen.forward(service, values, { ...options, functions: this.#functions });
      default:
        return gen.forward(service, values, options);
    }
  }

  /**
   * One program parameter of this execution: the module's (set or bound), else the constructor's. Checked here
   * too, because an attribute set directly on a module was not, and Ax allocates per sample.
   * @throws {ValidationError} when it is out of its range
   */
  #parameter(params: ProgramParameters, name: ProgramParameter): number | undefined {
    const value = params[name] ?? this.#settings[name];
    checkSetting(name, value);
    return value;
  }

  /** BestOfN's and Refine's reward and this execution's threshold (both refuse to be built without a reward). */
  #rewardOptions(params: ProgramParameters) {
    const reward = this.#settings.reward!;
    const threshold = this.#parameter(params, 'threshold');
    const rewardFn = (args: { input: unknown; prediction: unknown; attempt: number }) =>
      reward({ input: args.input as FieldValues, prediction: args.prediction as FieldValues, attempt: args.attempt });
    return threshold === undefined ? { rewardFn } : { rewardFn, threshold };
  }

  /**
   * The result of an execution that answered `answer`: one object built field by field (no spread of another), as it
   * is made at every execution.
   */
  #result(
    answer: FieldValues,
    provider: string,
    provenance: ModuleResult['provenance'],
    model: string,
    usage: ExecutionUsage | undefined,
  ): ModuleResult {
    const result = withOutputDates(answer, this.#dates);
    // Ax validates a reply's fields, except a whole (unstreamed) reply with empty text, which it returns as {}: a
    // missing field fails here as Ax fails it for a streamed one, not as a success without an answer.
    if (this.#required.some((name) => result[name] === undefined)) {
      throw missingFieldsError(
        provider,
        this.#required.filter((name) => result[name] === undefined),
      );
    }
    let output = result;
    let reasoning: string | undefined;
    if (this.#addsReasoning) {
      const { [REASONING]: given, ...rest } = result;
      output = rest;
      if (typeof given === 'string') reasoning = given;
    }
    const made: { -readonly [K in keyof ModuleResult]: ModuleResult[K] } = { output, provenance, model };
    if (reasoning !== undefined) made.reasoning = reasoning;
    if (usage !== undefined) made.usage = usage;
    return made;
  }
}
