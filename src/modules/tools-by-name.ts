/**
 * The tools a runtime is started with (`Runtime.start({ tools })`), checked and by name. Apart from module-spec.ts,
 * whose checks a remote client runs too: checking a tool's `parameters` takes Ajv (tool-arguments.ts), which only a
 * node needs.
 * @module
 */
import { ValidationError } from '../errors.js';
import { show } from '../variables/failure.js';
import type { ModuleTool } from './module-types.js';
import { assertToolParameters } from './tool-arguments.js';
import { assertToolName } from './tool-name.js';

/**
 * The runtime's tools by name, from `Runtime.start({ tools })`.
 * @throws {ValidationError} for a tool without a name or a func, a name providers refuse, two tools with one name,
 * or `parameters` that is not a JSON Schema
 */
export function toolsByName(tools: readonly ModuleTool[] = []): ReadonlyMap<string, ModuleTool> {
  const byName = new Map<string, ModuleTool>();
  for (const [index, tool] of tools.entries()) {
    // Named by its place and, where it has one, its name: a tools file (`tether serve --tools`) may hold dozens, and
    // "got an object" said none of which.
    const field = `tools[${index}]`;
    if (typeof tool?.name !== 'string' || tool.name === '') {
      const what =
        typeof tool !== 'object' || tool === null
          ? show(tool)
          : `${show(tool)} ${tool.name === undefined ? 'without a name' : `whose name is ${show(tool.name)}`}`;
      throw new ValidationError(`runtime tools need a name and a func; ${field} is ${what}`, { details: { field } });
    }
    if (typeof tool.func !== 'function') {
      throw new ValidationError(`runtime tool '${tool.name}' (${field}) needs a func, got ${show(tool.func)}`, {
        details: { field, tool: tool.name },
      });
    }
    assertToolName(tool.name, 'runtime tool');
    if (byName.has(tool.name))
      throw new ValidationError(`two runtime tools are named '${tool.name}'`, { details: { tool: tool.name } });
    assertToolParameters(tool);
    byName.set(tool.name, tool);
  }
  return byName;
}
