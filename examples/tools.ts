/**
 * Tools for `tether serve --tools examples/tools.ts` (compiled, as the Docker image runs it:
 * `--tools dist/examples/tools.js`): the planet lookup of the dynamic-module scenario, so a ReAct module created
 * from the CLI can name it (`--tool planetFacts`). Every node that may run such a module must be started with the
 * same tools.
 * @module
 */
import type { ModuleTool } from '../src/index.js';
import { planetFactsTool } from './dynamic-module.js';

/** The tools a node started with this file offers. */
export const tools: readonly ModuleTool[] = [
  planetFactsTool((planet, facts) =>
    console.log(`tool planetFacts(${JSON.stringify(planet)}) → ${JSON.stringify(facts)}`),
  ),
];
