/**
 * Which build the bench runs as: tsc's output (`npm run bench`, as the npm package ships) or the sources through tsx.
 * The child processes the bench starts (its peers, its heap benches) run the same build as it does.
 * @module
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether this bench runs as tsc's output. */
export const compiled = import.meta.url.endsWith('.js');

/** What the bench says it ran: `compiled by tsc` or `run through tsx`. */
export const buildName = compiled ? 'compiled by tsc' : 'run through tsx';

/** Node's arguments that let a child process run a bench script of this build. */
export const loaderArgs: readonly string[] = compiled ? [] : ['--import', 'tsx'];

/** The path of the bench script `name` (relative to bench/, without extension) in this build. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
}

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. Compared as paths:
 * a file URL percent-encodes what a path has as it is (a space, a letter outside ASCII), and the start path may go
 * through a symbolic link.
 */
export function isMainScript(moduleUrl: string): boolean {
  const started = process.argv[1];
  return started !== undefined && realpathSync(fileURLToPath(moduleUrl)) === realpathSync(started);
}
