/**
 * What a key of the modules bucket (`<session>.<module>`) holds: the spec of a module any node can wake, or the
 * {@link LocalClaim} of a module that stays on the node that created it (its spec holds functions, and has no JSON
 * form). Both kinds share the bucket so that module ids are one namespace (see module-claims.ts).
 *
 * Only nodes write the bucket, but anything with access to it can: a value that is neither (not JSON, not an object,
 * a claim naming no node) is unreadable, and module-specs.ts says what stands for it.
 * @module
 */
import type { WireModuleSpec } from './module-wire-spec.js';
import { readJsonObject } from './json-object-body.js';

/**
 * What the bucket holds for a module that stays on the node that created it: not the spec, but who has the module.
 * @example
 * { "nodeLocal": true, "node": "Hq3cAFZ6r9Cv2tV0rPaN7A", "claimedAt": "2025-01-01T12:00:00.000Z" }
 */
export interface LocalClaim {
  /** Tells a claim from a spec (no spec has this field). */
  readonly nodeLocal: true;
  /** The node's instance id of the `tether` micro service (`$SRV.PING.tether.<id>` answers while it lives). */
  readonly node: string;
  /** When the node claimed the id (ISO); for people reading the bucket. */
  readonly claimedAt: string;
}

/** A module's key's value: its spec, or the claim of the node it stays on. */
export type ModuleKeyValue =
  | { readonly spec: WireModuleSpec; readonly local?: undefined }
  | { readonly local: LocalClaim; readonly spec?: undefined };

/** What a module's key holds, with the revision it was written at. */
export type ModuleEntryRecord = { readonly revision: number } & ModuleKeyValue;

/** One module of a session as the bucket lists it. */
export type ListedModule = { readonly moduleId: string } & ModuleKeyValue;

/** A value of the bucket as read: a spec or a claim, or why it is neither. */
export type DecodedModuleValue = ModuleKeyValue | { readonly problem: string };

/**
 * Reads a value written to the bucket: a claim when it says so, a spec for any other JSON object (checked when it is
 * woken), and otherwise why it is neither.
 */
export function decodeModuleValue(data: Uint8Array): DecodedModuleValue {
  const read = readJsonObject(data);
  if ('problem' in read) return read;
  const value: unknown = read.object;
  if (!isLocalClaim(value)) return { spec: value as WireModuleSpec };
  // Its node is asked whether it still has the module: a claim naming none could never be taken over.
  return typeof value.node === 'string' ? { local: value } : { problem: 'a claim naming no node' };
}

/** Whether a value read from the bucket is a {@link LocalClaim} rather than a spec. */
export function isLocalClaim(value: unknown): value is LocalClaim {
  return typeof value === 'object' && value !== null && (value as Partial<LocalClaim>).nodeLocal === true;
}
