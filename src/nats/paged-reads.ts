/**
 * A remote client's whole reads of the variables of a session (`var.list`) and of the kept versions of one variable
 * (`var.history`). Each is asked for in one request first, as every node answers it; only when the answer does not fit
 * in one message (`payload_too_large`) is it read again a page at a time (see fitted-page.ts), each page carrying the
 * key of its last item as `next`, until a page without one. A `next` that does not move forward would page for ever:
 * no node sends it, and it is refused.
 *
 * A read of several pages is no single snapshot of the session. Each record is known at the revision of its own page,
 * so a watch catching up takes a change between two pages as news where the read did not show it. A history's pages
 * name the variable they are of (`id`): one defined again between two pages is read again from the start.
 * @module
 */
import { InternalError, PayloadTooLargeError, ValidationError } from '../errors.js';
import type { VariableHistoryEntry } from '../session/variable-history.js';
import type { VariableRecord, VariableType } from '../variables/types.js';
import { decodeRecord, decodeWireValue } from './wire.js';

/** A reply's result with the store revision it reported. */
interface Answer {
  readonly result: unknown;
  readonly revision: number;
}

/** A whole read of a session's variables. */
export interface VariablesRead {
  readonly records: VariableRecord[];
  /** The revision of the reply whose names cover `name`, whether the read found it or not. */
  revisionOf(name: string): number;
}

/** How often a history read starts over because its variable was defined again meanwhile, before it gives up. */
const HISTORY_ATTEMPTS = 3;

/**
 * Every record `ask` answers: one request unpaged (`after` undefined), then, if that is too large, page after page
 * (`after` the last name of the page before, `''` first).
 */
export async function readVariablePages(ask: (after: string | undefined) => Promise<Answer>): Promise<VariablesRead> {
  const whole = await unlessTooLarge(ask(undefined));
  if (!(whole instanceof PayloadTooLargeError)) {
    if (!Array.isArray(whole.result)) throw malformed('var.list');
    // The revision alone is kept: a watch holds `revisionOf` for as long as it lives, and a closure over the answer
    // would keep its undecoded records too (a session's every record, per watch of '*').
    const { revision } = whole;
    return { records: whole.result.map(decodeRecord), revisionOf: () => revision };
  }
  const records: VariableRecord[] = [];
  /** Per page, the last name it covers (none for the last page) and its revision. */
  const pages: { readonly last: string | undefined; readonly revision: number }[] = [];
  let after = '';
  for (;;) {
    const answer = await (after === '' ? firstPage(ask(after), whole) : ask(after));
    const page = answer.result as { variables?: unknown; next?: unknown } | null;
    if (!Array.isArray(page?.variables) || !movesOn(page.next, after, 'string')) throw malformed('var.list');
    for (const record of page.variables as unknown[]) records.push(decodeRecord(record));
    pages.push({ last: page.next as string | undefined, revision: answer.revision });
    if (page.next === undefined) break;
    after = page.next as string;
  }
  return {
    records,
    revisionOf: (name) => pages.find((page) => page.last === undefined || name <= page.last)!.revision,
  };
}

/**
 * Every kept version of variable `name` that `ask` answers, decoded: one request unpaged (`after` undefined), then, if
 * that is too large, page after page (`after` the last version of the page before, 0 first), all of one variable.
 */
export async function readHistoryPages(
  name: string,
  ask: (after: number | undefined) => Promise<unknown>,
): Promise<VariableHistoryEntry[]> {
  const whole = await unlessTooLarge(ask(undefined));
  if (!(whole instanceof PayloadTooLargeError)) return decodedEntries(whole as HistoryPage);
  for (let attempt = 1; ; attempt++) {
    const entries = await historyOfOneVariable((after) => (after === 0 ? firstPage(ask(after), whole) : ask(after)));
    if (entries) return entries;
    if (attempt === HISTORY_ATTEMPTS)
      throw new InternalError(
        `variable '${name}' was defined again ${HISTORY_ATTEMPTS} times while its history was read a page at a time`,
      );
  }
}

/** A page of history as a node sends it. */
interface HistoryPage {
  readonly type?: VariableType;
  readonly id?: unknown;
  readonly entries?: unknown;
  readonly next?: unknown;
}

/** The pages of one history read; `undefined` when they turned out to be of two variables (defined again between). */
async function historyOfOneVariable(
  ask: (after: number) => Promise<unknown>,
): Promise<VariableHistoryEntry[] | undefined> {
  const entries: VariableHistoryEntry[] = [];
  let id: unknown;
  let after = 0;
  for (;;) {
    const page = (await ask(after)) as HistoryPage | null;
    if (!page || !movesOn(page.next, after, 'number')) throw malformed('var.history');
    if (after > 0 && page.id !== id) return undefined;
    id = page.id;
    entries.push(...decodedEntries(page));
    if (page.next === undefined) return entries;
    after = page.next as number;
  }
}

/** The entries of a history page, each value decoded for its own type. */
function decodedEntries(page: HistoryPage): VariableHistoryEntry[] {
  if (!Array.isArray(page?.entries)) throw malformed('var.history');
  return (page.entries as VariableHistoryEntry[]).map((entry) => {
    // Each entry with its own type: an import with `replace` may have changed the type since (a node that sends
    // no entry type sends values of the current type).
    const type = entry.type ?? (page.type as VariableType);
    return { ...entry, type, value: decodeWireValue(type, entry.value) };
  });
}

/** What `answer` resolves to; the refusal when it is refused as too large for one message. */
async function unlessTooLarge<T>(answer: Promise<T>): Promise<T | PayloadTooLargeError> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return error;
    throw error;
  }
}

/**
 * `page`, the first page asked for after `tooLarge`; a node of a version that does not page refuses the `after` field,
 * and its caller hears that the answer was too large, which is what stands in its way.
 */
async function firstPage<T>(page: Promise<T>, tooLarge: PayloadTooLargeError): Promise<T> {
  try {
    return await page;
  } catch (error) {
    const unknown = (error as { details?: { unknown?: unknown } }).details?.unknown;
    if (error instanceof ValidationError && Array.isArray(unknown) && unknown.includes('after')) throw tooLarge;
    throw error;
  }
}

/** Whether `next` ends the paging (absent) or is a key of `kind` past `after`. */
function movesOn(next: unknown, after: string | number, kind: 'string' | 'number'): boolean {
  return next === undefined || (typeof next === kind && (next as string | number) > after);
}

function malformed(operation: string): InternalError {
  return new InternalError(`malformed ${operation} reply from a tether node`);
}
