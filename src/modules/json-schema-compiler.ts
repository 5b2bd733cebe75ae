/**
 * Compiles JSON Schemas that callers bring (a ReAct tool's `parameters`) with Ajv, in the dialect each names:
 * draft-07 when it names none (what providers' function calling documents), draft-06 and any dialect Ajv has no
 * class for (draft-04, say) as draft-07 with their `$schema` set aside, 2019-09 and 2020-12 (what Zod 4 and MCP
 * tools write) each by its own class.
 *
 * Ajv keeps something of every schema an instance compiled (its cache, the names of its generated code), and tools
 * come and go with the modules that hold them: each dialect's instance is replaced after {@link COMPILES_PER_INSTANCE}
 * compiles, so what a long-lived process keeps is bounded; a check already compiled keeps working. Schemas are not
 * added to an instance by their `$id` (two tools may share one), so no tool's schema changes how another's compiles.
 * @module
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** How many schemas one Ajv instance compiles before a new one takes over. */
export const COMPILES_PER_INSTANCE = 64;

// strict: false, because tool schemas carry annotations that strict mode refuses (`examples`, vendor keys); the
// schema itself is still checked against its dialect's meta-schema, so `type: 'strng'` is refused. Formats are not
// checked (Ajv knows none without a plugin, and would say so on the console at every compile).
const OPTIONS: Options = {
  allErrors: true,
  strict: false,
  addUsedSchema: false,
  validateFormats: false,
  logger: false,
};

type Dialect = 'draft-07' | '2019-09' | '2020-12';

const MAKERS: Record<Dialect, () => Ajv> = {
  'draft-07': () => new Ajv(OPTIONS),
  '2019-09': () => new Ajv2019(OPTIONS),
  '2020-12': () => new Ajv2020(OPTIONS),
};

/** The dialect a `$schema` names, `undefined` for one compiled as draft-07 without it. */
function dialectOf(schema: object): Dialect | undefined {
  const named = (schema as { $schema?: unknown }).$schema;
  if (named === undefined) return 'draft-07';
  const uri = String(named).replace(/#$/, '');
  if (uri === 'http://json-schema.org/draft-07/schema') return 'draft-07';
  if (uri === 'https://json-schema.org/draft/2019-09/schema') return '2019-09';
  if (uri === 'https://json-schema.org/draft/2020-12/schema') return '2020-12';
  return undefined;
}

const instances = new Map<Dialect, { ajv: Ajv; compiles: number }>();

/**
 * A check of values against `schema`.
 * @throws {Error} Ajv's, when `schema` is not a schema of its dialect
 */
export function compileJsonSchema(schema: object): ValidateFunction {
  const named = dialectOf(schema);
  const dialect = named ?? 'draft-07';
  let instance = instances.get(dialect);
  if (!instance || instance.compiles >= COMPILES_PER_INSTANCE) {
    instance = { ajv: MAKERS[dialect](), compiles: 0 };
    instances.set(dialect, instance);
  }
  instance.compiles += 1;
  return instance.ajv.compile(named === undefined ? withoutDialect(schema) : schema);
}

/** `schema` with its `$schema` set aside, to be read as draft-07. */
function withoutDialect(schema: object): object {
  const { $schema: _setAside, ...rest } = schema as { $schema?: unknown };
  return rest;
}
