/**
 * The shapes modules take and return: results with provenance, forward options, tools. Free of Ax types.
 * @module
 */

/** The input or output fields of one execution, by field name. */
export type FieldValues = Record<string, unknown>;

/** What one `forward()` returns. */
export interface ModuleResult {
  /** The signature's output fields (a ChainOfThought's `reasoning` is not among them). */
  readonly output: FieldValues;
  /**
   * `{ variableName: version }` of every bound variable whose value this execution used, read in one consistent
   * snapshot. Empty for a module without bindings. For a multi-step program it is the snapshot of its last step.
   */
  readonly provenance: Readonly<Record<string, number>>;
  /** The visible reasoning of the ChainOfThought variants, kept apart from `output`. */
  readonly reasoning?: string;
}

/** Options of one `forward()`. */
export interface ForwardOptions {
  /**
   * Re-read the bound variables before executing.
   * @default true
   */
  readonly autoSync?: boolean;
  /** Cancels the execution, including a request in flight. */
  readonly abortSignal?: AbortSignal;
}

/** A JSON-Schema object describing a tool's arguments. */
export interface ToolParameters {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
}

/** A function a ReAct module may call between its steps. */
export interface ModuleTool {
  /** camelCase or snake_case; what the LLM calls it. */
  readonly name: string;
  readonly description: string;
  readonly parameters?: ToolParameters;
  readonly func: (args: Record<string, unknown>) => unknown;
}

/** What a BestOfN or Refine reward function sees of one candidate. */
export interface RewardInput {
  readonly input: FieldValues;
  readonly prediction: FieldValues;
  readonly attempt: number;
}

/** Scores a candidate; higher is better. */
export type RewardFunction = (candidate: RewardInput) => number | Promise<number>;

/** Picks one of several samples (MultiChainComparison); returns its index. */
export type SamplePicker = (samples: readonly FieldValues[]) => number | Promise<number>;

/** Called when re-reading bound variables failed; the execution goes on with the last good values. */
export type SyncErrorHandler = (error: Error, context: { readonly moduleType: string; readonly sessionId: string }) => void;
