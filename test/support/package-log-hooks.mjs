// The module hooks of package-log.mjs, run in the loader's own thread: written synchronously, so no line is lost when
// the process exits right after an import.
import { appendFileSync } from 'node:fs';

const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const name = PACKAGE.exec(resolved.url)?.[1];
  if (name !== undefined && process.env.PACKAGE_LOG) appendFileSync(process.env.PACKAGE_LOG, `${name}\n`);
  return resolved;
}
