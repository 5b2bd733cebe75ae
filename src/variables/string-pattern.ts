/**
 * The `pattern` constraint of `string` variables, run on RE2JS (a pure-JS port of RE2) instead of `RegExp`.
 * Patterns and values both come from clients; V8's backtracking engine takes exponential time on a pattern like
 * `^(a+)+$`, and one such write froze every node that served it. RE2 runs in time linear in the value, times
 * the size of the compiled pattern, so both sizes are bounded here and the product of the two is too.
 * @module
 */
import { RE2JS } from 're2js';
import { shorten } from './failure.js';
import { MAX_REPEAT, toLinearInput, toLinearPattern } from './linear-pattern.js';

/** Longest pattern source, in UTF-16 code units; compiling costs time and memory in proportion. */
export const MAX_PATTERN_LENGTH = 4096;

/** Largest compiled pattern, in RE2 instructions (`^[a-z]+$` is 6, `\d{4}-\d{2}-\d{2}` about 20). */
export const MAX_PATTERN_SIZE = 2048;

/**
 * Most work one write may spend on pattern checks, all its values together (a batch, an import): value length
 * (code units) times pattern size, summed. Matching costs up to ~100 ns per unit of this on a slow machine, so a
 * write's checks stay within about 50 ms however many values it carries, and any pattern can test a value of at
 * least `PATTERN_TEST_BUDGET / MAX_PATTERN_SIZE` (256) code units. A check outside a write (no budget running)
 * is held to the same amount on its own.
 */
export const PATTERN_TEST_BUDGET = 2 ** 19;

/** What is left of the running write's budget; `undefined` outside {@link withPatternBudget}. */
let budgetLeft: number | undefined;

/**
 * Runs `plan` (one write's validation, synchronous) with one {@link PATTERN_TEST_BUDGET} shared by every pattern
 * check inside it: per value alone, a batch of many values could still keep the process busy for seconds.
 */
export function withPatternBudget<T>(plan: () => T): T {
  const outer = budgetLeft;
  budgetLeft = PATTERN_TEST_BUDGET;
  try {
    return plan();
  } finally {
    budgetLeft = outer;
  }
}

/** Takes `cost` from the running write's budget; `false` (nothing taken) when that much is not left. */
export function spendPatternBudget(cost: number): boolean {
  const left = budgetLeft ?? PATTERN_TEST_BUDGET;
  if (cost > left) return false;
  if (budgetLeft !== undefined) budgetLeft = left - cost;
  return true;
}

/** A pattern ready to test values. */
export interface CompiledPattern {
  readonly source: string;
  /** Instructions in the compiled program. */
  readonly size: number;
  /** Longest value (code units) that {@link CompiledPattern.test} may be given; see {@link PATTERN_TEST_BUDGET}. */
  readonly maxInputLength: number;
  /** Whether `value` matches anywhere (unanchored, as `RegExp.prototype.test`). */
  test(value: string): boolean;
}

/** Why a pattern is refused: a phrase to follow "constraint pattern", and the engine error behind it if any. */
export interface PatternRefusal {
  readonly refused: string;
  readonly cause?: unknown;
}

// A compiled pattern keeps a lazily built DFA of up to ~8 MB, so the cache holds few of them; evicting the
// least recently used one costs a recompile (0.1–1 ms for ordinary patterns) the next time it is seen.
const cache = new Map<string, CompiledPattern | PatternRefusal>();
const CACHE_LIMIT = 32;

/**
 * Compiles a `pattern` constraint, or says why it is refused: not a valid JS RegExp (the engine's own
 * message, with its `SyntaxError` as cause), a construct with no linear-time equivalent (backreferences,
 * lookarounds), or over {@link MAX_PATTERN_LENGTH} / {@link MAX_PATTERN_SIZE}. An accepted pattern matches
 * exactly what `new RegExp(source).test(value)` would.
 * @example
 * const pattern = compilePattern('^[a-z]+$')
 * if ('test' in pattern) pattern.test('abc') // true
 * compilePattern('(?=a)') // { refused: '/(?=a)/ is not supported by the linear-time matcher: lookahead (?=' }
 */
export function compilePattern(source: string): CompiledPattern | PatternRefusal {
  const cached = cache.get(source);
  if (cached) {
    cache.delete(source);
    cache.set(source, cached);
    return cached;
  }
  const compiled = compile(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, compiled);
  return compiled;
}

function compile(source: string): CompiledPattern | PatternRefusal {
  if (source.length > MAX_PATTERN_LENGTH) {
    return { refused: `is too long: ${source.length} characters, at most ${MAX_PATTERN_LENGTH}` };
  }
  try {
    // Only to check the syntax and keep its error message; no value is ever tested with it. Compiling a JS
    // RegExp does not backtrack.
    new RegExp(source);
  } catch (error) {
    return { refused: `is not a valid regular expression: ${(error as Error).message}`, cause: error };
  }
  const shown = `/${shorten(source)}/`;
  const linear = toLinearPattern(source);
  if ('unsupported' in linear) {
    return { refused: `${shown} is not supported by the linear-time matcher: ${linear.unsupported}` };
  }
  let program: RE2JS;
  try {
    program = RE2JS.compile(linear.re2);
  } catch (error) {
    let reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    // Counts above the limit were refused already, so this one is a product of nested counts.
    if (reason.startsWith('invalid repeat count')) reason += ` (nested counts multiply; the most is ${MAX_REPEAT})`;
    return { refused: `${shown} is not supported by the linear-time matcher: ${reason}`, cause: error };
  }
  const size = program.programSize();
  if (size > MAX_PATTERN_SIZE) {
    return { refused: `${shown} is too large: it compiles to ${size} instructions, at most ${MAX_PATTERN_SIZE}` };
  }
  return {
    source,
    size,
    maxInputLength: Math.floor(PATTERN_TEST_BUDGET / size),
    test: (value) => program.test(toLinearInput(value)),
  };
}
