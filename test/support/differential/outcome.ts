/**
 * What a call did, in a form that compares across the three sides: the value it resolved to, or what it threw
 * (synchronously or not), with only what legitimately differs between sides normalised. Each normalisation says
 * why; everything else (key sets, `undefined` against absent, `NaN`, `-0`, frozenness, error classes) is compared.
 * What module listeners hear goes through the same, after the one normalisation of its own (listeners.ts): the
 * session's life that a remote handle's events name.
 * @module
 */

/** What is normalised, and why each is allowed to differ. */
const WHY = {
  // Wall-clock times of each side's own writes: the three sides write at different instants.
  time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
  // Identities drawn at random (`randomUUID`) by each side: a variable's `id`, an execution's, a session's life.
  // Each side's are numbered in the order it shows them, so that the same identity must show in the same places.
  uuid: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
} as const;

/** Numbers each side's random identities in the order they appear, the same numbering over a whole run. */
export class IdNumbering {
  private readonly labels = new Map<string, string>();
  private count = 0;
  constructor(private readonly prefix: string) {}

  label(id: string): string {
    let label = this.labels.get(id);
    if (label === undefined) {
      this.count += 1;
      label = `<${this.prefix}${this.count}>`;
      this.labels.set(id, label);
    }
    return label;
  }

  /**
   * Names `id` by what it is rather than by number: a session's life (`incarnation`), which only a remote handle
   * shows (README, "Deleting a session"), must not shift the numbers of the identities shown after it.
   */
  alias(id: string, label: string): void {
    if (!this.labels.has(id)) this.labels.set(id, label);
  }

  text(value: string): string {
    if (WHY.time.test(value)) return '<time>';
    return value.replace(WHY.uuid, (id) => this.label(id));
  }
}

/**
 * `value` as a plain JSON-able tree: special numbers, `undefined`, bigints and functions tagged, keys sorted (the
 * order of a record's keys is promised nowhere), and `"$frozen": false` on each object or array that is not frozen
 * (README: what a session returns of its variables is deep-frozen, embedded and remotely alike).
 */
export function canonical(value: unknown, ids: IdNumbering, seen = new Set<object>()): unknown {
  if (value === undefined) return { $: 'undefined' };
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $: 'NaN' };
    if (!Number.isFinite(value)) return { $: String(value) };
    if (Object.is(value, -0)) return { $: '-0' };
    return value;
  }
  if (typeof value === 'string') return ids.text(value);
  if (typeof value === 'bigint') return { $: 'bigint', value: String(value) };
  if (typeof value === 'function') return { $: 'function' };
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return { $: 'cycle' };
  seen.add(value);
  try {
    if (value instanceof Date) return { $: 'Date', value: value.toISOString(), frozen: Object.isFrozen(value) };
    if (value instanceof Error) return errorView(value, ids);
    const frozen = Object.isFrozen(value) ? {} : { $frozen: false };
    if (Array.isArray(value)) return { $array: value.map((item) => canonical(item, ids, seen)), ...frozen };
    const prototype = Object.getPrototypeOf(value) as object | null;
    const kind = prototype === Object.prototype || prototype === null ? {} : { $class: prototype.constructor.name };
    const incarnation = (value as { incarnation?: unknown }).incarnation;
    if (typeof incarnation === 'string') ids.alias(incarnation, '<life>');
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key], ids, seen)]);
    return { ...Object.fromEntries(entries), ...frozen, ...kind };
  } finally {
    seen.delete(value);
  }
}

/** An error as compared: its class, code, message, details and any other field of its own. */
function errorView(error: Error, ids: IdNumbering): unknown {
  const own = Object.fromEntries(
    Object.keys(error)
      .filter((key) => key !== 'details' && key !== 'code')
      .sort()
      .map((key) => [key, canonical((error as unknown as Record<string, unknown>)[key], ids)]),
  );
  const { code, details } = error as Error & { code?: unknown; details?: unknown };
  const incarnation = (details as { incarnation?: unknown } | undefined)?.incarnation;
  if (typeof incarnation === 'string') ids.alias(incarnation, '<life>');
  return {
    class: error.constructor.name,
    code: canonical(code, ids),
    message: ids.text(error.message),
    details: canonical(details, ids),
    own,
  };
}

/** A call's outcome: `{ ok }`, `{ rejected }`, `{ threw }` (synchronously), or `{ hung }` past `timeoutMs`. */
export type Outcome = { ok: unknown } | { rejected: unknown } | { threw: unknown } | { hung: number };

/** Runs `call` and tells what it did, normalised with `ids`. */
export async function outcomeOf(call: () => Promise<unknown>, ids: IdNumbering, timeoutMs: number): Promise<Outcome> {
  let pending: Promise<unknown>;
  try {
    pending = call();
  } catch (error) {
    return { threw: canonical(error, ids) };
  }
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs);
  });
  try {
    const settled = await Promise.race([
      Promise.resolve(pending).then(
        (value) => ({ ok: value }),
        (error: unknown) => ({ error }),
      ),
      hung,
    ]);
    if (settled === 'hung') return { hung: timeoutMs };
    if ('ok' in settled) return { ok: canonical(settled.ok, ids) };
    return { rejected: canonical(settled.error, ids) };
  } finally {
    clearTimeout(timer);
  }
}

/** The error code of an outcome, if it is a refusal. */
export function codeOf(outcome: Outcome): string | undefined {
  const error = 'rejected' in outcome ? outcome.rejected : 'threw' in outcome ? outcome.threw : undefined;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
