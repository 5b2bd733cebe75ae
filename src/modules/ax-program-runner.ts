/**
 * Runs one module execution on Ax. Each program kind maps onto what Ax 24 actually offers (it has no
 * ChainOfThought/ReAct classes): a generator with an extra visible field, with tools, wrapped by bestOfN/refine,
 * sampled several times, or an agent with a JS runtime.
 * @module
 */
import { AxGen, AxJSRuntime, AxSignature, agent, bestOfN, f, refine } from '@ax-llm/ax';
import type {
  AxFieldType,
  AxFunction,
  AxFunctionJSONSchema,
  AxGenIn,
  AxGenOut,
  AxProgramForwardOptions,
  AxSignature as Sig,
} from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { applyToStep, axServiceOf, toForwardOptions } from './ax-bridge.js';
import { InputFields } from './input-fields.js';
import type { LanguageModel } from './language-model.js';
import type {
  ExecutionParameters,
  FieldValues,
  ModuleParameters,
  ModuleTool,
  ProgramParameters,
  RewardFunction,
  SamplePicker,
} from './module-types.js';
import { toTetherError, toolFailure } from './provider-errors.js';
import { type ProgramParameter, checkProgramSettings, checkSetting } from './setting-limits.js';

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
}

/** Receives streamed text: the output field and the characters added since the last call. */
export type DeltaListener = (field: string, delta: string) => void;

/** What one execution produced. */
export interface RunOutcome {
  readonly output: FieldValues;
  readonly reasoning?: string;
}

const REASONING = 'reasoning';
/** Candidates, rounds and samples when neither the execution nor the constructor says. */
const DEFAULT_COUNT = 3;
const POOL_LIMIT = 8;
/** Ax keeps a usage record per call; clearing them every few calls bounds the memory at a fraction of the cost. */
const USAGE_RESET_EVERY = 32;

interface Pooled {
  readonly gen: AxGen<AxGenIn, AxGenOut>;
  instruction: string | undefined;
  /** The listener of the execution holding this generator, if it wants deltas. */
  onDelta: DeltaListener | undefined;
  /** Characters of each field already passed on, so only the new ones go out. */
  readonly streamed: Map<string, number>;
  /** Whether its text fields have streaming processors (which cost ~10 µs per forward even unused). */
  readonly streams: boolean;
  /** Executions since Ax's usage records (one per call, never read here) were last cleared. */
  uses: number;
}

/** Parses a signature once, turning Ax's exception into a Tether validation error. */
function parseSignature(signature: string): Sig {
  try {
    return AxSignature.from(signature);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ValidationError(`invalid signature '${signature}': ${why}`, {
      cause,
    });
  }
}

/** Executes one program kind; holds the parsed signature and a small pool of idle generators. */
export class AxProgramRunner {
  readonly #kind: ProgramKind;
  readonly #signature: Sig;
  readonly #settings: ProgramSettings;
  readonly #addsReasoning: boolean;
  readonly #functions: AxFunction[];
  readonly #inputs: InputFields;
  // Executions never share a generator (Ax keeps one chat log and usage per instance); idle ones are reused
  // because building one costs about as much as Tether's whole sync.
  readonly #idle: Pooled[] = [];
  readonly #idleStreaming: Pooled[] = [];

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
      throw new ValidationError(`signature '${signature}' cannot take the ${kind} fields: ${String(cause)}`, { cause });
    }
    this.#signature = sig;
    this.#inputs = new InputFields(sig.getInputFields());
    this.#functions = (settings.tools ?? []).map(toAxFunction);
    if (kind === 'react' && this.#functions.length === 0) {
      throw new ValidationError(
        'ReAct needs at least one tool (options.tools); without tools use Predict or ChainOfThought',
      );
    }
    if ((kind === 'best_of_n' || kind === 'refine') && !settings.reward) {
      const name = kind === 'best_of_n' ? 'BestOfN' : 'Refine';
      throw new ValidationError(`${name} needs a reward function (options.reward)`);
    }
  }

  /** What is wrong with an execution's inputs for this program's signature, or `undefined` (see InputFields). */
  inputProblem(values: FieldValues): ValidationError | undefined {
    return this.#inputs.problem(values);
  }

  /** Whether this program loops over several LLM steps, so parameters are re-applied between steps. */
  get multiStep(): boolean {
    return this.#kind === 'react';
  }

  /**
   * Runs once on `llm` with exactly `params`, which are read before this returns (a module may pass itself);
   * its program parameters (`n`, `rounds`, `samples`, `threshold`) override the constructor's for this execution,
   * and one out of its range is refused with a `ValidationError` before anything is sent. Errors come back as
   * Tether errors. `finish` shapes the outcome in the same continuation that returns the generator to its pool,
   * so a caller adds no promise of its own.
   */
  // Not async, for the same reason as #forwardKind: the runner's own layer costs each execution no microtask.
  run<R = RunOutcome>(
    llm: LanguageModel,
    values: FieldValues,
    params: ExecutionParameters,
    hooks: RunHooks = {},
    finish: (outcome: RunOutcome) => R = (outcome) => outcome as R,
  ): Promise<R> {
    const signal = hooks.abortSignal;
    if (signal?.aborted) {
      return Promise.reject(toTetherError(new Error('aborted before it started'), llm.provider, signal));
    }
    const invalid = this.#inputs.problem(values);
    if (invalid) return Promise.reject(invalid);
    let pooled: Pooled | undefined;
    let forwarded: Promise<FieldValues>;
    // The signal stops the program rather than going to Ax: Ax would merge it with its own per-forward signal
    // through AbortSignal.any, measured at ~40 µs per execution on Node 20 (mostly collecting its weak refs).
    // Ax's stop aborts the program's requests in flight, and its next forward if none is (see #release).
    let stop: (() => void) | undefined;
    try {
      const service = axServiceOf(llm);
      const options = toForwardOptions(params);
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
        const program = agent(this.#signature, { runtime: new AxJSRuntime() });
        if (params.instructions !== undefined) program.addActorInstruction(params.instructions);
        forwarded = program.forward(service, values as AxGenIn, options);
        if (signal) stop = () => program.stop();
      } else {
        const taken = this.#acquire(params.instructions, hooks.onDelta !== undefined);
        pooled = taken;
        taken.onDelta = hooks.onDelta;
        forwarded = this.#forwardKind(taken.gen, service, values as AxGenIn, options, params);
        if (signal) stop = () => taken.gen.stop();
      }
      if (signal && stop) signal.addEventListener('abort', stop, { once: true });
    } catch (error) {
      if (pooled) this.#release(pooled, signal);
      return Promise.reject(toTetherError(error, llm.provider, signal));
    }
    const settle = (): void => {
      if (signal && stop) signal.removeEventListener('abort', stop);
      if (pooled) this.#release(pooled, signal);
    };
    return forwarded.then(
      (result) => {
        settle();
        return finish(this.#outcome(result));
      },
      (error: unknown) => {
        settle();
        throw toTetherError(error, llm.provider, signal);
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
        return refine(gen, { rounds, ...this.#rewardOptions(params) }).forward(service, values, options);
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

  #outcome(result: FieldValues): RunOutcome {
    if (!this.#addsReasoning) return { output: result };
    const { [REASONING]: reasoning, ...output } = result;
    return typeof reasoning === 'string' ? { output, reasoning } : { output };
  }

  #acquire(instruction: string | undefined, streams: boolean): Pooled {
    const pooled = (streams ? this.#idleStreaming : this.#idle).pop();
    if (pooled && (instruction !== undefined || pooled.instruction === undefined)) {
      if (instruction !== undefined && instruction !== pooled.instruction) {
        pooled.gen.setInstruction(instruction);
        pooled.instruction = instruction;
      }
      return pooled;
    }
    // An instance whose instruction was overridden cannot be reset to "none" through Ax's API: build anew.
    const gen = new AxGen<AxGenIn, AxGenOut>(this.#signature);
    if (instruction !== undefined) gen.setInstruction(instruction);
    const fresh: Pooled = { gen, instruction, onDelta: undefined, streamed: new Map(), streams, uses: 0 };
    if (streams) this.#streamTextFields(fresh);
    return fresh;
  }

  /**
   * Registers, once per generator, a streaming processor on each text output field that passes new characters
   * to the current execution's listener. Ax hands the processor the field's whole text so far; returning
   * nothing keeps it out of the chat log.
   */
  #streamTextFields(pooled: Pooled): void {
    for (const field of this.#signature.getOutputFields()) {
      if (field.type !== undefined && field.type.name !== 'string') continue;
      pooled.gen.addStreamingFieldProcessor(field.name, (raw: string) => {
        const listener = pooled.onDelta;
        if (!listener) return undefined;
        // Ax trims the final value; trimming the start here makes the deltas add up to it.
        const text = raw.trimStart();
        // A shorter text means Ax started the field again (a retry): pass it on from its start.
        const sent = pooled.streamed.get(field.name) ?? 0;
        const from = text.length < sent ? 0 : sent;
        if (text.length > from) listener(field.name, text.slice(from));
        pooled.streamed.set(field.name, text.length);
        return undefined;
      });
    }
  }

  /**
   * Returns a generator to the pool, unless its execution was aborted: a stop that landed after the forward
   * ended would abort the generator's next forward before it starts.
   */
  #release(pooled: Pooled, signal: AbortSignal | undefined): void {
    if (signal?.aborted) return;
    pooled.onDelta = undefined;
    pooled.streamed.clear();
    if (++pooled.uses % USAGE_RESET_EVERY === 0) pooled.gen.resetUsage();
    const idle = pooled.streams ? this.#idleStreaming : this.#idle;
    if (idle.length < POOL_LIMIT) idle.push(pooled);
  }
}

/** Ax's fluent field builder and its field-type parameter disagree under exactOptionalPropertyTypes. */
function asField(field: unknown): AxFieldType {
  return field as AxFieldType;
}

function toAxFunction(tool: ModuleTool): AxFunction {
  return {
    name: tool.name,
    description: tool.description,
    parameters: (tool.parameters ?? { type: 'object', properties: {} }) as unknown as AxFunctionJSONSchema,
    func: async (args?: unknown, extra?: { readonly abortSignal?: AbortSignal }) => {
      const signal = extra?.abortSignal;
      try {
        return await tool.func((args ?? {}) as Record<string, unknown>, signal ? { signal } : {});
      } catch (error) {
        // Named here, where the tool is known: by the time Ax rethrows it, it only says "Generate failed".
        throw toolFailure(tool.name, error, signal);
      }
    },
  };
}

/** Stable text of a value: key order must not make equal answers look different. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * The index of the most frequent sample; ties go to the earliest, so the choice is deterministic.
 * Returns 0 for an empty list.
 */
export function pickByMajority(samples: readonly FieldValues[]): number {
  const counts = new Map<string, { first: number; count: number }>();
  samples.forEach((sample, index) => {
    const key = canonical(sample);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { first: index, count: 1 });
  });
  let best = { first: 0, count: 0 };
  for (const entry of counts.values()) {
    if (entry.count > best.count) best = entry;
  }
  return best.first;
}
