/**
 * `validateDefineOptions`: the check of `defineVariable`'s options object. DSPex silently dropped a misspelled
 * option (`descripton`), so the variable was defined without it and nobody found out; here it is an error.
 * @module
 */
import { fail, show } from './failure.js';
import { freezeJson, isPlainObject, shownPath } from './json-value.js';
import type { Constraints, DefineVariableOptions, JsonValue } from './types.js';
import { assertKindReadable, readOptions } from '../option-keys.js';

/** The options `defineVariable` accepts. */
export const DEFINE_OPTION_KEYS: readonly string[] = Object.freeze(['constraints', 'description', 'metadata']);

/**
 * Checks `defineVariable` options and returns a frozen copy holding only the options given. `undefined` options
 * mean none; an option whose value is `undefined` counts as absent. Rejects, with a `ValidationError`: a
 * non-object (`null` too, as every other operation's options and the wire refuse it), an unknown key (naming the
 * accepted ones), a non-string `description`, a
 * `metadata` that is not a JSON object, and a `constraints` that is not an object. The content of `constraints`
 * depends on the type and is checked by `validateConstraints`.
 * @example
 * validateDefineOptions({ description: 'sampling temperature', metadata: { owner: 'ml' } })
 * validateDefineOptions({ descripton: 'x' }) // throws "unknown option 'descripton'; accepted: ..."
 */
export function validateDefineOptions(options: unknown, variableName?: string): DefineVariableOptions {
  if (options === undefined) return Object.freeze({});
  const owner = variableName === undefined ? 'defineVariable' : `${variableName}:`;
  assertKindReadable(options, `${owner} options`, {}, variableName);
  if (!isPlainObject(options)) {
    return fail(variableName, `options must be an object, got ${show(options)}`, { constraint: 'options' });
  }
  for (const [key] of readOptions(options, owner, 'option', variableName)) {
    if (!DEFINE_OPTION_KEYS.includes(key)) {
      fail(variableName, `unknown option '${key}'; accepted: ${DEFINE_OPTION_KEYS.join(', ')}`, {
        constraint: key,
        accepted: [...DEFINE_OPTION_KEYS],
      });
    }
  }

  const { constraints, description, metadata } = options;
  const result: { -readonly [K in keyof DefineVariableOptions]: DefineVariableOptions[K] } = {};
  if (constraints !== undefined) {
    assertKindReadable(constraints, `${owner} option 'constraints'`, { option: 'constraints' }, variableName);
    if (!isPlainObject(constraints)) {
      return fail(variableName, `option constraints must be an object, got ${show(constraints)}`, {
        constraint: 'constraints',
      });
    }
    // Shallow copy: the caller may mutate its object before validateConstraints makes the stored copy.
    result.constraints = Object.freeze(
      Object.fromEntries(readOptions(constraints, owner, 'constraint', variableName)),
    ) as Constraints;
  }
  if (description !== undefined) {
    if (typeof description !== 'string') {
      return fail(variableName, `option description must be a string, got ${show(description)}`, {
        constraint: 'description',
      });
    }
    result.description = description;
  }
  if (metadata !== undefined) {
    assertKindReadable(metadata, `${owner} option 'metadata'`, { option: 'metadata' }, variableName);
    if (!isPlainObject(metadata)) {
      return fail(variableName, `option metadata must be a JSON object, got ${show(metadata)}`, {
        constraint: 'metadata',
      });
    }
    result.metadata = freezeJson(metadata, (path, problem) =>
      fail(variableName, `option metadata must be a JSON object; ${shownPath(path)} is ${problem}`, {
        constraint: 'metadata',
        path,
      }),
    ) as Readonly<Record<string, JsonValue>>;
  }
  return Object.freeze(result);
}
