/**
 * What a fuzz run found: each deviation one line naming the request that showed it, so the failure message alone
 * is enough to reproduce it (with the seed).
 * @module
 */

/** Records a deviation from the protocol or the model. */
export type Report = (deviation: string) => void;

/** A bounded list of deviations (one defect can show in every later request) and its {@link Report}. */
export function createDeviations(limit = 200): { readonly list: string[]; readonly report: Report } {
  const list: string[] = [];
  return {
    list,
    report: (deviation) => {
      if (list.length < limit) list.push(deviation);
    },
  };
}
