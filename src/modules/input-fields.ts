/**
 * The input fields of a program's signature, checked before Ax sees an execution's inputs. A missing field, a
 * number where a string is due or a field the signature lacks is the caller's mistake: it becomes a
 * `ValidationError` naming the field, costs no provider request, and is not confused with a provider failure
 * (Ax throws plain errors for these, deep inside `forward`, with messages that are not an API).
 *
 * The rules are Ax 24's own (its input validation in `dsp/util.ts`), read from the signature once per program:
 * a required field must be present and not `null`, `''` or `[]`; an optional one may be absent or empty; a
 * present one must have its field's type. Tether adds two: numbers must be finite, and a field the signature
 * does not have is refused rather than silently dropped.
 * @module
 */
import type { AxIField } from '@ax-llm/ax';
import { ValidationError } from '../errors.js';
import { dateAsWritten, writesDates } from './dates-as-written.js';
import { lostInJson } from './lost-in-json.js';
import { couldNotRead } from '../option-keys.js';
import { cutText } from '../printable.js';
import { snagError, snagIn } from './input-snags.js';
import type { FieldValues } from './module-types.js';

/** How one input field is checked. */
interface FieldRule {
  readonly name: string;
  readonly required: boolean;
  /** The field is a list: every item must pass `accepts`. */
  readonly list: boolean;
  readonly accepts: (value: unknown) => boolean;
  /** What the field takes, for messages: `a string`, `a list of numbers`. */
  readonly expected: string;
}

interface TypeRule {
  readonly accepts: (value: unknown) => boolean;
  readonly one: string;
  readonly many: string;
}

const isString = (value: unknown): boolean => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
/**
 * A string with something in it: what Ax sends of a media field (an image's or a file's `mimeType`, `data` or
 * `fileUri`, audio's `data`), which its request builder refuses empty or of another type, as its own failure.
 */
const isText = (value: unknown): boolean => typeof value === 'string' && value !== '';

/** Ax's type names and what each takes (a type Ax adds later is left to Ax: accepted here). */
const TYPES: Readonly<Record<string, TypeRule>> = {
  string: { accepts: isString, one: 'a string', many: 'strings' },
  code: { accepts: isString, one: 'a string of code', many: 'strings of code' },
  class: { accepts: isString, one: 'a class name (string)', many: 'class names (strings)' },
  number: { accepts: Number.isFinite, one: 'a finite number', many: 'finite numbers' },
  boolean: { accepts: (value) => typeof value === 'boolean', one: 'a boolean', many: 'booleans' },
  json: {
    accepts: (value) => typeof value === 'object' || typeof value === 'string',
    one: 'a JSON object, list or string',
    many: 'JSON objects, lists or strings',
  },
  object: { accepts: isObject, one: 'an object', many: 'objects' },
  date: { accepts: isDateLike, one: 'a date (string or Date)', many: 'dates' },
  datetime: { accepts: isDateLike, one: 'a date-time (string or Date)', many: 'date-times' },
  dateRange: { accepts: isRangeLike, one: 'a date range ({ start, end })', many: 'date ranges' },
  datetimeRange: {
    accepts: isRangeLike,
    one: 'a date-time range ({ start, end })',
    many: 'date-time ranges',
  },
  image: {
    accepts: (value) => isObject(value) && isText(value.mimeType) && isText(value.data),
    one: 'an image ({ mimeType, data }, both strings)',
    many: 'images',
  },
  audio: {
    accepts: (value) => isObject(value) && isText(value.data) && (value.format === undefined || isString(value.format)),
    one: 'audio ({ data, format? }, strings)',
    many: 'audio items',
  },
  file: {
    accepts: (value) => isObject(value) && isText(value.mimeType) && isText(value.data) !== isText(value.fileUri),
    one: 'a file ({ mimeType, data } or { mimeType, fileUri }, strings)',
    many: 'files',
  },
  url: {
    accepts: (value) => typeof value === 'string' && URL.canParse(value),
    one: 'a URL (a string such as https://example.com)',
    many: 'URLs',
  },
};

const ANYTHING: TypeRule = { accepts: () => true, one: 'a value', many: 'values' };

/** The Ax field types whose input values are checked here: docs/protocol.md says what each takes on the wire. */
export const CHECKED_INPUT_TYPES: readonly string[] = Object.freeze(Object.keys(TYPES));

/** A string, or a `Date` that holds a time: Ax formats a date field's `Date`, and an invalid one threw there. */
function isDateLike(value: unknown): boolean {
  return value instanceof Date ? !Number.isNaN(value.getTime()) : typeof value === 'string';
}

function isRangeLike(value: unknown): boolean {
  return typeof value === 'string' || (isObject(value) && 'start' in value && 'end' in value);
}

/** Ax's notion of a value that was not given: `undefined`, `null`, an empty string or an empty list. */
function isAbsent(value: unknown): boolean {
  return (
    value === undefined || value === null || ((typeof value === 'string' || Array.isArray(value)) && value.length === 0)
  );
}

function ruleOf(field: AxIField): FieldRule {
  const type = TYPES[field.type?.name ?? 'string'] ?? ANYTHING;
  const list = field.type?.isArray === true;
  return {
    name: field.name,
    required: field.isOptional !== true,
    list,
    accepts: type.accepts,
    expected: list ? `a list of ${type.many}` : type.one,
  };
}

function passes(rule: FieldRule, value: unknown): boolean {
  // A list only where the signature declares one: Ax refuses a list given to a date or media field.
  if (rule.list) {
    if (!Array.isArray(value)) return false;
    for (const item of value) if (!rule.accepts(item)) return false;
    return true;
  }
  return rule.accepts(value);
}

/** What `value` is, for messages: `a number (5)`, `a list`, `an object`. */
function described(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return `a string (${text.length > 40 ? `${cutText(text, 37)}..."` : text})`;
  }
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value} (${String(value)})`;
}

/**
 * The value `values` gives for the field `name`: its own property, or one it inherits, but never a member of
 * `Object.prototype` (a field named `toString` or `constructor` that the caller left out is absent, not a function).
 */
function given(values: FieldValues, name: string): unknown {
  if (Object.hasOwn(values, name) || !(name in Object.prototype)) return values[name];
  return undefined;
}

/** The input fields of one program, ready to check executions against. */
export class InputFields {
  readonly #rules: readonly FieldRule[];
  readonly #names: ReadonlySet<string>;
  /** Fields named like an `Object.prototype` member (`toString`): usually none. */
  readonly #shadowed: readonly string[];
  /** `question (a string), hint (a string, optional)`: the accepted inputs, for messages. */
  readonly #summary: string;
  /** The fields whose `Date`s Ax writes in a form of its own (see dates-as-written.ts), with their type. */
  readonly #dated: readonly { readonly name: string; readonly type: string }[];

  constructor(fields: readonly AxIField[]) {
    // Ax leaves internal fields out of the prompt and never asks for them.
    const asked = fields.filter((field) => field.isInternal !== true);
    this.#rules = asked.map(ruleOf);
    this.#names = new Set(this.#rules.map((rule) => rule.name));
    this.#shadowed = this.#rules.map((rule) => rule.name).filter((name) => name in Object.prototype);
    this.#dated = asked
      .filter((field) => writesDates(field.type?.name, field.type?.isArray === true))
      .map((field) => ({ name: field.name, type: field.type!.name }));
    this.#summary = this.#rules
      .map((rule) => `${rule.name} (${rule.expected}${rule.required ? '' : ', optional'})`)
      .join(', ');
  }

  /**
   * What is wrong with `values`, or `undefined` when nothing is. Runs on every execution: it allocates nothing
   * when the inputs are fine.
   */
  problem(values: FieldValues): ValidationError | undefined {
    // The field being judged when a getter or proxy of the caller's threw (none while the names are listed).
    let field: string | undefined;
    try {
      // Unknown fields first: a misspelt field is also a missing one, and the refusal that names the misspelling
      // (and lists what the program takes) is the one that tells the caller what to fix.
      // Own and inherited enumerable keys alike: Ax reads fields by name, so either would have been dropped.
      for (const key in values) {
        field = key;
        if (!this.#names.has(key) && values[key] !== undefined) return this.#unknown(key);
      }
      for (const rule of this.#rules) {
        field = rule.name;
        const problem = this.#ruleProblem(rule, given(values, rule.name));
        if (problem) return problem;
      }
    } catch (error) {
      // Ax would have thrown it from deep inside the program, as the program's failure.
      return field === undefined
        ? couldNotRead('the input fields', error)
        : snagError(field, { kind: 'unreadable', error, path: [] });
    }
    return undefined;
  }

  /**
   * What is wrong with the fields `names` of `values` alone, or `undefined`: each must be one this program takes, and
   * pass its rule. For a caller that judges some fields here and leaves the rest to a check elsewhere (a remote
   * handle: the node judges what JSON carries exactly, see remote-input-check.ts).
   */
  fieldsProblem(values: FieldValues, names: readonly string[]): ValidationError | undefined {
    let field: string | undefined;
    try {
      for (const name of names) {
        field = name;
        const value = given(values, name);
        const rule = this.#rules.find((candidate) => candidate.name === name);
        const problem = rule ? this.#ruleProblem(rule, value) : value === undefined ? undefined : this.#unknown(name);
        if (problem) return problem;
      }
    } catch (error) {
      return snagError(field!, { kind: 'unreadable', error, path: [] });
    }
    return undefined;
  }

  /** What is wrong with `value` as the field `rule` judges, or `undefined`. */
  #ruleProblem(rule: FieldRule, value: unknown): ValidationError | undefined {
    if (isAbsent(value)) return rule.required ? this.#missing(rule, value) : undefined;
    if (!passes(rule, value)) {
      return new ValidationError(`input field '${rule.name}' must be ${rule.expected}, got ${described(value)}`, {
        details: { field: rule.name, expected: rule.expected },
      });
    }
    if (typeof value === 'object' && value !== null) {
      // The field itself, not only its members: a `Map` or a `Set` given as a json field would be written as `{}`.
      const got = lostInJson(value);
      if (got !== undefined) return snagError(rule.name, { kind: 'unwritable', got, path: [] });
      const snag = snagIn(value, 0);
      if (snag) return snagError(rule.name, snag);
    }
    return undefined;
  }

  /**
   * `values` as the program must get them. Ax reads each field by name, so a field named like an `Object.prototype`
   * member that the caller left out would read as the built-in (and fail the execution as a function): it is given
   * as absent instead.
   */
  forProgram(values: FieldValues): FieldValues {
    if (this.#shadowed.length === 0) return values;
    const left = this.#shadowed.filter((name) => !Object.hasOwn(values, name));
    return left.length === 0 ? values : { ...values, ...Object.fromEntries(left.map((name) => [name, undefined])) };
  }

  /**
   * `values` with each `Date` (or range of them) of a date-typed field as the text Ax writes for it: what a remote
   * handle sends, as JSON would send the `Date` as text of another form. `values` itself when it holds none.
   */
  asWritten(values: FieldValues): FieldValues {
    let written: Record<string, unknown> | undefined;
    for (const { name, type } of this.#dated) {
      const value = given(values, name);
      const text = dateAsWritten(type, value);
      if (text !== value) (written ??= { ...values })[name] = text;
    }
    return written ?? values;
  }

  #missing(rule: FieldRule, value: unknown): ValidationError {
    const given =
      value === undefined
        ? 'was not given'
        : `was ${value === null ? 'null' : typeof value === 'string' ? 'an empty string' : 'an empty list'}`;
    return new ValidationError(`input field '${rule.name}' (${rule.expected}) is required and ${given}`, {
      details: { field: rule.name, expected: rule.expected },
    });
  }

  #unknown(key: string): ValidationError {
    const name = key.length > 60 ? `${key.slice(0, 57)}...` : key;
    return new ValidationError(`unknown input field '${name}'; this program takes: ${this.#summary}`, {
      details: { field: name, accepted: [...this.#names] },
    });
  }
}
