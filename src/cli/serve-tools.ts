/**
 * `tether serve --tools <file>`: the tools a node's ReAct modules can name, loaded from a module file.
 * @module
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleTool } from '../modules/module-types.js';
import { ToolsFileError, UsageError } from './cli-errors.js';

/**
 * The tools a module file exports as `tools` (or as its default export). Tools are functions, so they cannot
 * travel in a spec: each node loads them, and a spec names them.
 */
export async function loadTools(file: string, command: readonly string[]): Promise<readonly ModuleTool[]> {
  const path = resolve(file);
  // Looked at first, so that a file that is not there is said in the user's words: the import's own error names
  // the path resolved against this package, and cannot be told from a file that imports something missing.
  const unreadable = await whyUnreadable(path);
  if (unreadable !== undefined) throw new UsageError(`--tools ${file}: ${unreadable}`, command);
  let loaded: { tools?: unknown; default?: unknown };
  try {
    loaded = (await import(pathToFileURL(path).href)) as { tools?: unknown; default?: unknown };
  } catch (error) {
    throw new ToolsFileError(file, { cause: error });
  }
  const tools = loaded.tools ?? loaded.default;
  if (!Array.isArray(tools)) throw new UsageError(`--tools ${file} exports no 'tools' array`, command);
  return tools as ModuleTool[];
}

/** Why the file at `path` cannot be read, in a few words; `undefined` when it can. */
async function whyUnreadable(path: string): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) return 'not a file';
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file';
    return `cannot read it (${code ?? (error as Error).message})`;
  }
}
