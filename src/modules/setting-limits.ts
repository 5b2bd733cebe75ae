/**
 * The allowed range of every numeric setting of a module. Specs arrive from users and over the wire, and are
 * stored where every node can wake them, so an unchecked count is not a typo but a way to stop nodes: one
 * MultiChainComparison with `samples: 1e9` made Ax and the offline model build a billion-entry array. Every
 * count is bounded by what a single execution may reasonably cost.
 * @module
 */
import { ValidationError } from '../errors.js';
import { cutText } from '../printable.js';

/** An inclusive range; `integer` when the setting counts something. */
export interface SettingRange {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** The most candidates, rounds or samples one execution may take: each is an LLM request or a sampled answer. */
export const MAX_SAMPLES = 32;

/**
 * The numeric settings and their ranges:
 * - `temperature` 0–2, `topP` 0–1, `presencePenalty`/`frequencyPenalty` −2–2: the ranges OpenAI documents (a
 *   provider with a narrower one, such as Anthropic's 0–1 temperature, reports its own limit).
 * - `topK` 0–1000: a few hundred is already far past any useful sampling cut-off.
 * - `maxTokens` 1–1,000,000: zero tokens can carry no answer; the top is above every provider's output limit.
 * - `maxRetries` 0–10: each retry is another full request (and bounds the provider's retries too).
 * - `maxSteps` 1–100: each step of ReAct is an LLM round trip; Ax's default is 25.
 * - `n` (BestOfN), `rounds` (Refine), `samples` (MultiChainComparison) 1–{@link MAX_SAMPLES}.
 * - `threshold` (BestOfN, Refine): any finite number, since scores are the reward function's own.
 */
export const SETTING_RANGES = {
  temperature: { min: 0, max: 2, integer: false },
  topP: { min: 0, max: 1, integer: false },
  topK: { min: 0, max: 1000, integer: true },
  presencePenalty: { min: -2, max: 2, integer: false },
  frequencyPenalty: { min: -2, max: 2, integer: false },
  maxTokens: { min: 1, max: 1_000_000, integer: true },
  maxRetries: { min: 0, max: 10, integer: true },
  maxSteps: { min: 1, max: 100, integer: true },
  n: { min: 1, max: MAX_SAMPLES, integer: true },
  rounds: { min: 1, max: MAX_SAMPLES, integer: true },
  samples: { min: 1, max: MAX_SAMPLES, integer: true },
  threshold: { min: -Number.MAX_VALUE, max: Number.MAX_VALUE, integer: false },
} as const satisfies Record<string, SettingRange>;

/** A module setting that holds a number. */
export type NumericSetting = keyof typeof SETTING_RANGES;

/** Whether `name` is a {@link NumericSetting}. */
export function isNumericSetting(name: string): name is NumericSetting {
  return Object.hasOwn(SETTING_RANGES, name);
}

/** What the range allows, as a message fragment: `an integer from 1 to 32`. */
export function describeRange(range: SettingRange): string {
  if (range.max === Number.MAX_VALUE) return 'a finite number';
  return `${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`;
}

/** Whether `value` lies in `range` (no allocation: runs on every sync of a bound parameter). */
export function inRange(range: SettingRange, value: unknown): boolean {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    value >= range.min &&
    value <= range.max
  );
}

/**
 * Throws unless `value` is `undefined` (unset) or in the range of `setting`.
 * @throws {ValidationError} naming the setting, the value and the allowed range (also in `details`)
 */
export function checkSetting(setting: NumericSetting, value: unknown): void {
  const range: SettingRange = SETTING_RANGES[setting];
  if (value === undefined || inRange(range, value)) return;
  // The setting is named in `details.field` only: no variable is involved (a bound one's refusal adds its own).
  throw new ValidationError(`module setting '${setting}' must be ${describeRange(range)}, got ${preview(value)}`, {
    details: { field: setting, value: jsonSafe(value), min: range.min, max: range.max, integer: range.integer },
  });
}

/**
 * The settings of a program kind, which shape the program rather than reach the LLM as model options: BestOfN's
 * `n`, Refine's `rounds`, MultiChainComparison's `samples`, BestOfN's and Refine's `threshold`.
 */
export const PROGRAM_PARAMETERS = ['n', 'rounds', 'samples', 'threshold'] as const satisfies readonly NumericSetting[];

/** A name of {@link PROGRAM_PARAMETERS}. */
export type ProgramParameter = (typeof PROGRAM_PARAMETERS)[number];

const programParameters = new Set<string>(PROGRAM_PARAMETERS);

/** Whether `name` is one of the {@link PROGRAM_PARAMETERS} (runs on every sync of a bound attribute). */
export function isProgramParameter(name: string): name is ProgramParameter {
  return programParameters.has(name);
}

/**
 * Checks the program settings `fields` holds (a spec, or a module's options): `n`, `rounds`, `samples`,
 * `threshold`. The LLM parameters are checked with them by `checkParameterValue`.
 * @throws {ValidationError} for the first one out of its range
 */
export function checkProgramSettings(fields: Readonly<Record<string, unknown>>): void {
  for (const setting of PROGRAM_PARAMETERS) checkSetting(setting, fields[setting]);
}

function preview(value: unknown): string {
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${cutText(text, 57)}..."` : text;
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/** The value as `details` can carry it over JSON: NaN and the infinities travel as text. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return typeof value === 'string' || typeof value === 'boolean' || value === null ? value : typeof value;
}
