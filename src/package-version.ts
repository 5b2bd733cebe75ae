/**
 * The version of the Tether package this code belongs to, read from its package.json: what a node announces as
 * its `$SRV` service version, so an operator can tell which release answers.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a version that cannot be read is given as: still semver, which the `$SRV` protocol requires. */
const UNKNOWN_VERSION = '0.0.0';

/** Semantic versioning 2.0, as nats.js checks a service version. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

let cached: string | undefined;

/**
 * The `version` of the nearest package.json above this file. The sources (`src/`) and the compiled package
 * (`dist/src/`) sit at different depths below it, so it is looked up rather than imported by a fixed path; a
 * package.json that is missing, unreadable or holds no semver version gives `0.0.0`.
 * @example
 * packageVersion(); // '0.1.0'
 */
export function packageVersion(): string {
  cached ??= readVersion(dirname(fileURLToPath(import.meta.url)));
  return cached;
}

/** The version in the first package.json found from `dir` upwards. */
export function readVersion(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(at, 'package.json'), 'utf8');
    } catch {
      // None here: look one folder up.
    }
    if (text !== undefined) {
      try {
        const version = (JSON.parse(text) as { version?: unknown }).version;
        return typeof version === 'string' && SEMVER.test(version) ? version : UNKNOWN_VERSION;
      } catch {
        return UNKNOWN_VERSION;
      }
    }
    if (dirname(at) === at) return UNKNOWN_VERSION;
  }
}
