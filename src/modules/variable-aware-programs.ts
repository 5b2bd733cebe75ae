/**
 * The variable-aware module classes of the original design: each plain module type with the mixin applied.
 * @module
 */
import {
  BestOfN,
  ChainOfThought,
  ChainOfThoughtWithHint,
  MultiChainComparison,
  Predict,
  ProgramOfThought,
  ReAct,
  Refine,
} from './programs.js';
import { VariableAwareMixin } from './variable-aware-mixin.js';

/**
 * Predict whose attributes follow session variables.
 * @example
 * const m = new VariableAwarePredict('question -> answer', { session })
 * await m.bindToVariable('temperature', 'llm_temperature')
 */
export class VariableAwarePredict extends VariableAwareMixin(Predict) {}

/** ChainOfThought whose attributes follow session variables; one request per forward. */
export class VariableAwareChainOfThought extends VariableAwareMixin(ChainOfThought) {}

/** ChainOfThoughtWithHint whose attributes follow session variables. */
export class VariableAwareChainOfThoughtWithHint extends VariableAwareMixin(ChainOfThoughtWithHint) {}

/** ReAct whose attributes follow session variables, re-read before every step. Refused without tools. */
export class VariableAwareReAct extends VariableAwareMixin(ReAct) {}

/** ProgramOfThought whose attributes follow session variables. */
export class VariableAwareProgramOfThought extends VariableAwareMixin(ProgramOfThought) {}

/** BestOfN whose attributes follow session variables. */
export class VariableAwareBestOfN extends VariableAwareMixin(BestOfN) {}

/** Refine whose attributes follow session variables. */
export class VariableAwareRefine extends VariableAwareMixin(Refine) {}

/** MultiChainComparison whose attributes follow session variables. */
export class VariableAwareMultiChainComparison extends VariableAwareMixin(MultiChainComparison) {}
