/**
 * Fakes for the claims of module ids (src/nats/module-claims.ts), so that a test can force the interleavings two
 * nodes meet only by chance over NATS: an in-memory modules bucket with compare-and-set writes and hooks that hold a
 * write or a release, and the forward subjects as a set of nodes serving each module (a node answers for a module
 * while it serves it: that is what `ModuleForward.answers` asks, with a describe, in the real thing).
 */
import { AlreadyExistsError } from '../../src/errors.js';
import { createModuleClaims, type ModuleClaims } from '../../src/nats/module-claims.js';
import { isLocalClaim, type LocalClaim, type ModuleEntryRecord } from '../../src/nats/module-records.js';
import type { ModuleSpecs } from '../../src/nats/module-specs.js';
import type { WireModuleSpec } from '../../src/nats/module-wire-spec.js';

type Value = WireModuleSpec | LocalClaim;

/** One write about to happen, as {@link FakeModuleBucket.beforeClaim} sees it. */
export interface ClaimWrite {
  readonly key: string;
  /** The node whose claim it is (`undefined` for a spec). */
  readonly node: string | undefined;
  readonly replacing: number | undefined;
}

/** A modules bucket in memory: revisions, compare-and-set, and hooks to hold writes. */
export class FakeModuleBucket implements Pick<ModuleSpecs, 'bucket' | 'claim' | 'current' | 'release' | 'holds'> {
  readonly bucket = 'fake_modules';
  readonly #keys = new Map<string, { revision: number; value: Value }>();
  #revision = 0;
  /** Awaited before each claim write is applied (to let another creation in first). */
  beforeClaim: ((write: ClaimWrite) => Promise<void> | void) | undefined;
  /** Awaited before each release is applied (to hold a release under way, or make it hang). */
  beforeRelease: ((key: string) => Promise<void> | void) | undefined;
  /** How many releases were asked for. */
  releases = 0;

  async claim(sessionId: string, moduleId: string, value: Value, replacing?: number): Promise<number> {
    const key = `${sessionId}.${moduleId}`;
    await this.beforeClaim?.({ key, node: isLocalClaim(value) ? value.node : undefined, replacing });
    const last = this.#keys.get(key);
    if (replacing === undefined ? last !== undefined : last?.revision !== replacing)
      throw new AlreadyExistsError('module', moduleId, { details: { sessionId } });
    return this.#write(key, value);
  }

  async release(sessionId: string, moduleId: string, revision: number): Promise<boolean> {
    const key = `${sessionId}.${moduleId}`;
    this.releases += 1;
    await this.beforeRelease?.(key);
    if (this.#keys.get(key)?.revision !== revision) return false;
    this.#keys.delete(key);
    this.#revision += 1;
    return true;
  }

  async current(sessionId: string, moduleId: string): Promise<ModuleEntryRecord | undefined> {
    const found = this.#keys.get(`${sessionId}.${moduleId}`);
    if (!found) return undefined;
    const { revision, value } = found;
    return isLocalClaim(value) ? { revision, local: value } : { revision, spec: value };
  }

  async holds(sessionId: string, moduleId: string, revision: number): Promise<boolean> {
    return this.#keys.get(`${sessionId}.${moduleId}`)?.revision === revision;
  }

  /** Writes a claim of `node` as that node would, whatever the key holds; resolves to its revision. */
  put(sessionId: string, moduleId: string, node: string): number {
    return this.#write(`${sessionId}.${moduleId}`, claimOf(node));
  }

  /** The node whose claim the key holds, `spec` for a spec, `undefined` when it is free. */
  holder(sessionId: string, moduleId: string): string | undefined {
    const value = this.#keys.get(`${sessionId}.${moduleId}`)?.value;
    return value === undefined ? undefined : isLocalClaim(value) ? value.node : 'spec';
  }

  #write(key: string, value: Value): number {
    this.#revision += 1;
    this.#keys.set(key, { revision: this.#revision, value });
    return this.#revision;
  }
}

/** A claim of `node`, as the bucket holds it. */
export function claimOf(node: string): LocalClaim {
  return { nodeLocal: true, node, claimedAt: new Date(0).toISOString() };
}

/** The nodes serving each module's forward subjects: a module is answered for while any node serves it. */
export class FakeForwards {
  readonly #serving = new Map<string, Set<string>>();
  /** Questions asked, by key. */
  readonly asked: string[] = [];
  /** Awaited before a node starts serving a module (its claim's first write is done by then). */
  beforeServe: ((node: string, key: string) => Promise<void> | void) | undefined;
  /** Awaited before a node stops serving a module (a drain takes a round trip in the real thing). */
  beforeUnserve: ((node: string, key: string) => Promise<void> | void) | undefined;

  /** Whether a node answers for the module; what `ModuleForward.answers` tells. */
  async answers(sessionId: string, moduleId: string): Promise<boolean> {
    const key = `${sessionId}.${moduleId}`;
    this.asked.push(key);
    return (this.#serving.get(key)?.size ?? 0) > 0;
  }

  /** Whether `node` serves the module now. */
  serves(node: string, sessionId: string, moduleId: string): boolean {
    return this.#serving.get(`${sessionId}.${moduleId}`)?.has(node) ?? false;
  }

  /** What `ModuleClaimsDeps.serve` does on `node`. */
  async serve(node: string, sessionId: string, moduleId: string): Promise<() => Promise<void>> {
    const key = `${sessionId}.${moduleId}`;
    await this.beforeServe?.(node, key);
    let nodes = this.#serving.get(key);
    if (!nodes) this.#serving.set(key, (nodes = new Set()));
    nodes.add(node);
    return async () => {
      await this.beforeUnserve?.(node, key);
      nodes.delete(node);
    };
  }
}

/** A node's claims on the fakes; `connected` is read at each use. */
export interface FakeClaimsNode {
  readonly claims: ModuleClaims;
  readonly node: string;
  connected: boolean;
  readonly reported: unknown[];
}

/** The claims of node `node` on a shared fake bucket and fake forward subjects. */
export function fakeClaimsNode(node: string, bucket: FakeModuleBucket, forwards: FakeForwards): FakeClaimsNode {
  const reported: unknown[] = [];
  const state: { connected: boolean } = { connected: true };
  const claims = createModuleClaims({
    specs: bucket,
    forward: forwards,
    serve: (sessionId, moduleId) => forwards.serve(node, sessionId, moduleId),
    node: () => node,
    connected: () => state.connected,
    report: (error) => reported.push(error),
  });
  return {
    claims,
    node,
    reported,
    get connected() {
      return state.connected;
    },
    set connected(value: boolean) {
      state.connected = value;
    },
  };
}

/** A promise and the function that settles it. */
export function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
