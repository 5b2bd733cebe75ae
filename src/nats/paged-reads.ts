/**
 * A remote client's whole reads of what a node answers a page at a time (see fitted-page.ts): the variables of a
 * session (`var.list`) and the kept versions of one variable (`var.history`), page after page until the last. Each
 * page carries the key of its last item as `next`; a page that does not (it comes from a node that does not page) is
 * the last one. A `next` that does not move forward would page for ever: no node sends it, and it is refused.
 *
 * A read of several pages is not one snapshot of the session: a variable defined or deleted between two pages may be
 * left out or listed, as in any paged listing. A session that fits in one reply is read in one page, as before.
 * @module
 */
import { InternalError } from '../errors.js';
import type { VariableHistoryEntry } from '../session/variable-history.js';
import type { VariableRecord, VariableType } from '../variables/types.js';
import { decodeRecord, decodeWireValue } from './wire.js';

/** A reply's result with the store revision it reported. */
interface Answer {
  readonly result: unknown;
  readonly revision: number;
}

/**
 * Every record `ask` pages through (`after` the last name of the page before, `''` first), with the highest store
 * revision the pages reported.
 */
export async function readVariablePages(
  ask: (after: string) => Promise<Answer>,
): Promise<{ records: VariableRecord[]; revision: number }> {
  const records: VariableRecord[] = [];
  let revision = 0;
  let after = '';
  for (;;) {
    const answer = await ask(after);
    const page = answer.result as { variables?: unknown; next?: unknown } | null;
    if (!Array.isArray(page?.variables) || !movesOn(page.next, after, 'string'))
      throw new InternalError('malformed var.list page from a tether node');
    for (const record of page.variables as unknown[]) records.push(decodeRecord(record));
    revision = Math.max(revision, answer.revision);
    if (page.next === undefined) return { records, revision };
    after = page.next as string;
  }
}

/** Every kept version `ask` pages through (`after` the last version of the page before, 0 first), decoded. */
export async function readHistoryPages(ask: (after: number) => Promise<unknown>): Promise<VariableHistoryEntry[]> {
  const entries: VariableHistoryEntry[] = [];
  let after = 0;
  for (;;) {
    const page = (await ask(after)) as { type?: VariableType; entries?: unknown; next?: unknown } | null;
    if (!Array.isArray(page?.entries) || !movesOn(page.next, after, 'number'))
      throw new InternalError('malformed var.history page from a tether node');
    for (const entry of page.entries as VariableHistoryEntry[]) {
      // Each entry with its own type: an import with `replace` may have changed the type since (a node that sends
      // no entry type sends values of the current type).
      const type = entry.type ?? (page.type as VariableType);
      entries.push({ ...entry, type, value: decodeWireValue(type, entry.value) });
    }
    if (page.next === undefined) return entries;
    after = page.next as number;
  }
}

/** Whether `next` ends the paging (absent) or is a key of `kind` past `after`. */
function movesOn(next: unknown, after: string | number, kind: 'string' | 'number'): boolean {
  return next === undefined || (typeof next === kind && (next as string | number) > after);
}
