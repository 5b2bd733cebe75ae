/**
 * The module types of the original design, as plain (not variable-aware) modules on Ax.
 * @module
 */
import { type ModuleOptions, ProgramModule, checksOptionKeys } from './program-module.js';

/**
 * What a module type cannot be built without besides its signature: `reward` (a function, so only a spec given
 * embedded has one) or `tools` (at least one). A class says it in its static `needs`; the registry reads it to tell
 * which types a module's type variable can select, since a variable names a type and brings neither.
 */
export type ModuleNeed = 'reward' | 'tools';

/**
 * A setting of a spec that only some module types use: every type takes the LLM parameters, `maxRetries` and
 * `instructions`; every type but ProgramOfThought, whose agent has no place for them, takes `examples`. A built-in
 * class lists those of these it uses in its static `uses`, so a spec of a fixed type that gives another one (tools for
 * Predict, which never calls them) is refused rather than ignored.
 */
export type TypeSetting = (typeof TYPE_SETTINGS)[number];

/** Every {@link TypeSetting}, in the order a refusal names the first one a spec gives. */
export const TYPE_SETTINGS = [
  'tools',
  'maxSteps',
  'n',
  'rounds',
  'samples',
  'threshold',
  'reward',
  'pick',
  'examples',
] as const;

/** One LLM call from inputs to outputs (Ax `ax(signature)`). */
export class Predict extends ProgramModule {
  static override readonly moduleType: string = 'Predict';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['examples'];
  /** @example new Predict('question -> answer', { temperature: 0.2 }) */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'predict');
  }
}

/** Predict with a visible leading `reasoning` field; the reasoning is returned apart from the output. One call. */
export class ChainOfThought extends ProgramModule {
  static override readonly moduleType: string = 'ChainOfThought';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['examples'];
  /** @example new ChainOfThought('question -> answer') */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'chain_of_thought');
  }
}

/** ChainOfThought with an optional `hint` input field. */
export class ChainOfThoughtWithHint extends ProgramModule {
  static override readonly moduleType: string = 'ChainOfThoughtWithHint';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['examples'];
  /** @example new ChainOfThoughtWithHint('question -> answer').forward({ question, hint: 'think in units' }) */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'chain_of_thought_with_hint');
  }
}

/** Reason-and-act: the LLM may call `options.tools` between steps, up to `maxSteps`. Refused without tools. */
export class ReAct extends ProgramModule {
  static override readonly moduleType: string = 'ReAct';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['tools', 'maxSteps', 'examples'];
  /** Refused without at least one tool. */
  static readonly needs: readonly ModuleNeed[] = ['tools'];
  /** @example new ReAct('question -> answer', { tools: [searchTool], maxSteps: 5 }) */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'react');
  }
}

/** The LLM writes JavaScript that Ax runs in a sandboxed runtime to reach the answer (Ax `agent`). */
export class ProgramOfThought extends ProgramModule {
  static override readonly moduleType: string = 'ProgramOfThought';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['maxSteps'];
  /** @example new ProgramOfThought('question -> answer:number') */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'program_of_thought');
  }
}

/**
 * Asks for `n` candidates in one request and keeps the best by `reward`, or the first to reach `threshold` (Ax
 * `bestOfN`).
 */
export class BestOfN extends ProgramModule {
  static override readonly moduleType: string = 'BestOfN';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['n', 'threshold', 'reward', 'examples'];
  /** Refused without a reward function. */
  static readonly needs: readonly ModuleNeed[] = ['reward'];
  /**
   * @example
   * new BestOfN('question -> answer', { n: 3, reward: ({ prediction }) => String(prediction.answer).length })
   */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'best_of_n');
  }
}

/** Retries with feedback for up to `rounds` rounds until `reward` reaches `threshold` (Ax `refine`). */
export class Refine extends ProgramModule {
  static override readonly moduleType: string = 'Refine';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['rounds', 'threshold', 'reward', 'examples'];
  /** Refused without a reward function. */
  static readonly needs: readonly ModuleNeed[] = ['reward'];
  /** @example new Refine('question -> answer', { rounds: 2, reward: score, threshold: 1 }) */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'refine');
  }
}

/** Asks for several samples in one request and keeps the one most agree on, or the one `pick` chooses. */
export class MultiChainComparison extends ProgramModule {
  static override readonly moduleType: string = 'MultiChainComparison';
  /** The type settings it reads (see {@link TypeSetting}). */
  static readonly uses: readonly TypeSetting[] = ['samples', 'pick', 'examples'];
  /** @example new MultiChainComparison('question -> answer', { samples: 5 }) */
  constructor(signature: string, options: ModuleOptions = {}) {
    super(signature, options, 'multi_chain_comparison');
  }
}

checksOptionKeys(
  Predict,
  ChainOfThought,
  ChainOfThoughtWithHint,
  ReAct,
  ProgramOfThought,
  BestOfN,
  Refine,
  MultiChainComparison,
);

/** A concrete module class: what the registry stores and `VariableAwareMixin` extends. */
export type ModuleClass = (new (signature: string, options?: ModuleOptions) => ProgramModule) & {
  readonly moduleType: string;
  /** What the type cannot be built without (see {@link ModuleNeed}); none when absent. */
  readonly needs?: readonly ModuleNeed[];
  /** The type settings it reads (see {@link TypeSetting}); a class of the user's without its own says nothing. */
  readonly uses?: readonly TypeSetting[];
};
