/**
 * What a tool may be named. The model calls a tool by its name, which goes over the wire as a function's name:
 * OpenAI's chat completions, and the providers speaking its protocol, refuse one outside `^[a-zA-Z0-9_-]{1,64}$`
 * with HTTP 400 on every request that carries it. Checked when a runtime or a module takes the tool, so a bad name
 * is refused once, naming the tool, rather than failing every execution at the provider.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Names Ax keeps for its own structured output: a tool of one of them fails every execution inside Ax. */
const RESERVED_BY_AX = new Set(['__axOutput', '__finalResult']);

/**
 * Refuses a tool name no provider takes, or one Ax keeps for itself, or one that is no string.
 * @param where what the tool belongs to, for the message: `runtime tool`, `module spec tools:`
 * @param details what the error's details add to `tool` (the spec's `field`, say)
 * @throws {ValidationError} naming the tool
 */
export function assertToolName(
  name: unknown,
  where: string,
  details: Readonly<Record<string, unknown>> = {},
): asserts name is string {
  if (typeof name !== 'string')
    throw new ValidationError(`${where} name must be a string, got ${show(name)}`, {
      details: { ...details, got: show(name) },
    });
  const problem = RESERVED_BY_AX.has(name)
    ? 'is kept by Ax for its structured output'
    : TOOL_NAME.test(name)
      ? undefined
      : "is not a name providers take: 1 to 64 ASCII letters (A-Z, a-z), digits, '_' or '-'";
  if (problem) throw new ValidationError(`${where} '${name}' ${problem}`, { details: { ...details, tool: name } });
}

/**
 * Refuses the tools a module class is built with directly (`new ReAct(...)`) when a name is one
 * {@link assertToolName} refuses, or when two of them share a name. A spec's tools and a runtime's are checked when
 * taken (module-spec.ts, tools-by-name.ts); these reach the module unchecked.
 * @throws {ValidationError} naming the tool and its `field`, `tools[i]`
 */
export function assertModuleToolNames(tools: readonly unknown[]): void {
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    const field = `tools[${index}]`;
    const name = (tool as { readonly name?: unknown } | null | undefined)?.name;
    assertToolName(name, 'module tool', { field });
    // The model could call only one of two tools of one name, and which one would be Ax's choice.
    if (names.has(name))
      throw new ValidationError(`module tool '${name}' is given twice`, { details: { field, tool: name } });
    names.add(name);
  }
}
