/**
 * The idle Ax generators of one program, reused across its executions. Executions never share a generator (Ax
 * keeps one chat log and usage per instance), but building one costs about as much as Tether's whole sync, so a
 * finished execution's generator goes back here, with its streaming processors if it has them.
 * @module
 */
import { AxGen } from '@ax-llm/ax';
import type { AxAIService, AxGenIn, AxGenOut, AxSignature as Sig } from '@ax-llm/ax';
import { sentDefaultModel } from './ax-bridge.js';
import type { LanguageModel } from './language-model.js';
import { finishTextDeltas, streamTextFields, type DeltaRelay } from './text-deltas.js';
import { UsageMeter } from './usage-meter.js';

const POOL_LIMIT = 8;
/** Ax keeps a usage record per call; clearing them every few calls bounds the memory at a fraction of the cost. */
const USAGE_RESET_EVERY = 32;

/** A generator of the pool, with the execution that holds it (its deltas' listener, when it wants them). */
export interface Pooled extends DeltaRelay {
  readonly gen: AxGen<AxGenIn, AxGenOut>;
  instruction: string | undefined;
  /** The examples it was given, compared by identity: a bound list stays the same object until its variable changes. */
  examples: readonly Readonly<Record<string, unknown>>[] | undefined;
  /** Whether its text fields have streaming processors (which cost ~10 µs per forward even unused). */
  readonly streams: boolean;
  /** Executions since Ax's usage records (one per call, never read here) were last cleared. */
  uses: number;
  /** What counts the model and tokens of its execution's requests (see {@link GeneratorPool.meterOf}). */
  meter?: UsageMeter;
}

/** A small pool of idle generators for one signature, kept apart by whether they stream. */
export class GeneratorPool {
  readonly #signature: Sig;
  // Executions never share a generator (Ax keeps one chat log and usage per instance); idle ones are reused
  // because building one costs about as much as Tether's whole sync.
  readonly #idle: Pooled[] = [];
  readonly #idleStreaming: Pooled[] = [];

  /** The output fields an answer must have, checked by an assertion of each generator (see {@link acquire}). */
  readonly #required: readonly string[];

  /**
   * @param required the output fields every answer must have; empty for a program whose answers may lack them (see
   * ax-program-runner.ts: a ReAct step that calls a tool, one of a comparison's samples)
   */
  constructor(signature: Sig, required: readonly string[] = []) {
    this.#signature = signature;
    this.#required = required;
  }

  /**
   * An idle generator with `instruction` and `examples` (already checked against the signature, see
   * module-examples.ts) that streams if `streams`, or a new one.
   */
  acquire(instruction: string | undefined, examples: Pooled['examples'], streams: boolean): Pooled {
    const pooled = (streams ? this.#idleStreaming : this.#idle).pop();
    if (pooled) {
      if (instruction !== pooled.instruction) {
        if (instruction === undefined) pooled.gen.clearInstruction();
        else pooled.gen.setInstruction(instruction);
        pooled.instruction = instruction;
      }
      if (examples !== pooled.examples) {
        // Ax has no way to clear them: an empty list renders none.
        pooled.gen.setExamples((examples ?? []) as never);
        pooled.examples = examples;
      }
      return pooled;
    }
    const gen = new AxGen<AxGenIn, AxGenOut>(this.#signature);
    if (instruction !== undefined) gen.setInstruction(instruction);
    if (examples !== undefined) gen.setExamples(examples as never);
    // Ax checks a whole (unstreamed) answer's fields only when its text is not empty: an empty one came back as {},
    // with none of the corrections (maxRetries) a streamed one gets. A failed assertion is corrected as Ax corrects
    // a missing field. A streaming generator needs none: Ax checks every streamed answer's fields itself.
    const required = this.#required;
    if (required.length > 0 && !streams) gen.addAssert((values) => missingFieldsProblem(values, required));
    const fresh: Pooled = { gen, instruction, examples, onDelta: undefined, streamed: new Map(), streams, uses: 0 };
    // Once per generator: its processors pass each execution's deltas to the listener it holds then.
    if (streams) streamTextFields(gen, this.#signature, fresh);
    return fresh;
  }

  /**
   * Passes on what the final value of each text field adds to the deltas sent (see `finishTextDeltas`), so each
   * field's deltas add up to its value in `output`: the whole value, from a generator that did not stream (a ReAct's)
   * for an execution with a listener.
   */
  finishDeltas(pooled: Pooled, output: Readonly<Record<string, unknown>>): void {
    finishTextDeltas(pooled, this.#signature, output);
  }

  /**
   * The meter `pooled`'s execution runs on, counting from nothing: the one it keeps, made once for `llm`'s service
   * `service` (again only when another language model runs it).
   */
  meterOf(pooled: Pooled, service: AxAIService, llm: LanguageModel): UsageMeter {
    if (pooled.meter?.source !== service) pooled.meter = new UsageMeter(service, sentDefaultModel(llm));
    else pooled.meter.reset();
    return pooled.meter;
  }

  /**
   * Returns a generator to the pool, unless its execution was aborted: a stop that landed after the forward
   * ended would abort the generator's next forward before it starts.
   */
  release(pooled: Pooled, signal: AbortSignal | undefined): void {
    if (signal?.aborted) return;
    pooled.onDelta = undefined;
    // Only when it holds something: clearing a Map allocates its table again, at every execution.
    if (pooled.streamed.size > 0) pooled.streamed.clear();
    if (++pooled.uses % USAGE_RESET_EVERY === 0) pooled.gen.resetUsage();
    const idle = pooled.streams ? this.#idleStreaming : this.#idle;
    if (idle.length < POOL_LIMIT) idle.push(pooled);
  }
}

/** How the assertion's correction starts: {@link missingFieldsIn} finds the fields it names in Ax's final error. */
const MISSING_FIELDS = 'The answer has no field ';

/** What the model is told when an answer lacks `required` output fields, or `undefined` when it has them all. */
function missingFieldsProblem(values: Record<string, unknown>, required: readonly string[]): string | undefined {
  const missing = required.filter((name) => values[name] === undefined);
  if (missing.length === 0) return undefined;
  return `${MISSING_FIELDS}${missing.map((name) => `'${name}'`).join(', ')}: give every output field after its label`;
}

/**
 * The output fields the required-fields assertion found missing, when `error` (what Ax threw once its corrections
 * ran out) is its failure; `undefined` for any other error. Field names are identifiers, so quotes delimit them.
 */
export function missingFieldsIn(error: unknown): string[] | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    const at = cause.message.indexOf(MISSING_FIELDS);
    if (at < 0) continue;
    const list = cause.message.slice(at + MISSING_FIELDS.length).split(':')[0]!;
    return [...list.matchAll(/'([^']+)'/g)].map((match) => match[1]!);
  }
  return undefined;
}
