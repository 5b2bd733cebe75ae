/**
 * The differential run: a seeded sequence of calls, each applied to every side in turn and its outcome compared
 * with the reference side's (the first), then each side's visible state (its variables, their histories, its
 * export, its modules, its watch's changes, what its module listeners heard) compared the same way. A call answered
 * otherwise is recorded and the run goes on; a state that differs ends it: the sides' states part there, and what
 * follows would only repeat it.
 * @module
 */
import { createRandom } from '../wire-fuzz/random.js';
import { nextOperation, handleView } from './operations.js';
import { codeOf, IdNumbering, outcomeOf, type Outcome } from './outcome.js';
import type { Side } from './sides.js';
import { NAMES } from './values.js';
import { knownDifference } from './known.js';
import { heardView } from './listeners.js';

/** Where a side answered otherwise than the reference. */
export interface Difference {
  readonly seed: number;
  readonly step: number;
  /** The call, or the state read after it. */
  readonly label: string;
  readonly side: string;
  readonly reference: Outcome;
  readonly actual: Outcome;
  /** The calls before it, the last ones first. */
  readonly before: readonly string[];
}

export interface DifferentialRun {
  readonly differences: Difference[];
  /** Steps applied, and how many calls of each kind the reference side answered with each code (or `ok`). */
  readonly steps: number;
  readonly codes: Record<string, number>;
  /** Differences that are documented or known, by why. */
  readonly known: Record<string, number>;
  /** What the reference side's module listeners heard and was compared, by listener (`module.result`, `state`...). */
  readonly heard: Record<string, number>;
  readonly elapsedMs: number;
}

const CALL_TIMEOUT_MS = 20_000;
const MAX_DIFFERENCES = 20;

/** Runs `count` calls of seed `seed` on `sides`, the first being the reference. */
export async function runDifferential(sides: readonly Side[], seed: number, count: number): Promise<DifferentialRun> {
  const random = createRandom(seed);
  const ids = new Map(sides.map((side) => [side, new IdNumbering('id')]));
  const differences: Difference[] = [];
  const codes: Record<string, number> = {};
  const known: Record<string, number> = {};
  const heard: Record<string, number> = {};
  const started = Date.now();
  const trail: string[] = [];

  /** Applies `call` to every side and records where one differs; the reference outcome, or undefined on a difference. */
  const compare = async (
    step: number,
    label: string,
    call: (side: Side) => Promise<unknown>,
  ): Promise<Outcome | undefined> => {
    const outcomes: Outcome[] = [];
    for (const side of sides) outcomes.push(await outcomeOf(() => call(side), ids.get(side)!, CALL_TIMEOUT_MS));
    const [reference] = outcomes as [Outcome];
    let alike = true;
    outcomes.forEach((actual, i) => {
      if (i === 0 || JSON.stringify(actual) === JSON.stringify(reference)) return;
      const why = knownDifference(label, reference, actual, sides[i]!.name);
      if (why) {
        known[why] = (known[why] ?? 0) + 1;
        return;
      }
      alike = false;
      differences.push({
        seed,
        step,
        label,
        side: sides[i]!.name,
        reference,
        actual,
        before: trail.slice(-12),
      });
    });
    return alike ? reference : undefined;
  };

  let step = 0;
  for (; step < count; step += 1) {
    const operation = nextOperation(random);
    const reference = await compare(step, operation.label, (side) => operation.apply(side));
    // A call answered otherwise goes on to the state reads: a refusal worded otherwise leaves the sides alike, and a
    // change made on one side only shows there, which ends the run.
    if (!reference || differences.length >= MAX_DIFFERENCES) {
      if (differences.length >= MAX_DIFFERENCES) break;
      trail.push(`#${step} ${operation.label} → (differs)`);
      if (!(await compareState(step, sides, compare, heard))) break;
      continue;
    }
    const code = `${callName(operation.label)}: ${codeOf(reference) ?? ('ok' in reference ? 'ok' : 'other')}`;
    codes[code] = (codes[code] ?? 0) + 1;
    trail.push(`#${step} ${operation.label} → ${brief(reference)}`);
    if (!(await compareState(step, sides, compare, heard))) break;
  }
  // What the listeners heard since the last comparison, which no later step compares.
  if (step === count && step % 5 !== 0) await compareChanges(step, sides, compare, heard);
  return { differences, steps: step, codes, known, heard, elapsedMs: Date.now() - started };
}

type Compare = (step: number, label: string, call: (side: Side) => Promise<unknown>) => Promise<Outcome | undefined>;

/** Compares what each side shows of the session after step `step`: every step its variables and modules, more now and then. */
async function compareState(
  step: number,
  sides: readonly Side[],
  compare: Compare,
  heard: Record<string, number>,
): Promise<boolean> {
  const reads: [string, (side: Side) => Promise<unknown>][] = [
    ['state listVariables()', (side) => side.session.listVariables()],
    ['state modules()', async (side) => (await side.session.modules()).map(handleView)],
    ['state getVariables(every name)', (side) => side.session.getVariables(NAMES)],
  ];
  if (step % 5 === 4) {
    for (const name of NAMES)
      reads.push([`state variableHistory('${name}')`, (side) => side.session.variableHistory(name)]);
    reads.push(['state exportVariables()', (side) => side.session.exportVariables()]);
    reads.push(['state module describe()', (side) => describeModules(side)]);
  }
  for (const [label, read] of reads) if (!(await compare(step, label, read))) return false;
  if (step % 5 === 4) return compareChanges(step, sides, compare, heard);
  return true;
}

/** How long a side's watch or module listeners may take to hear what the reference side's did (remote ones: events). */
const CHANGES_WAIT_MS = 3_000;

/**
 * Compares what each side's watch, and its module listeners, heard since the last comparison, once every side heard
 * as much as the reference side (or the wait is over).
 */
async function compareChanges(
  step: number,
  sides: readonly Side[],
  compare: Compare,
  tally: Record<string, number>,
): Promise<boolean> {
  const [reference] = sides;
  if (!reference) return true;
  const deadline = Date.now() + CHANGES_WAIT_MS;
  const behind = (side: Side): boolean =>
    side.changes.length < reference.changes.length ||
    side.modulesHeard.heard.length < reference.modulesHeard.heard.length;
  while (sides.some(behind) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const alike = await compare(step, 'state changes heard by watchVariables', async (side) => side.changes.splice(0));
  if (alike === undefined) return false;
  for (const { listener } of reference.modulesHeard.heard) tally[listener] = (tally[listener] ?? 0) + 1;
  const heard = await compare(step, 'state events heard by module listeners', async (side) =>
    heardView(side.modulesHeard.heard.splice(0)),
  );
  return heard !== undefined;
}

/** What each module handle the side holds describes, by id. */
async function describeModules(side: Side): Promise<unknown> {
  const described: Record<string, unknown> = {};
  for (const [id, handle] of [...side.modules].sort(([a], [b]) => (a < b ? -1 : 1))) {
    described[id] = await handle.describe().then(
      (description) => description,
      (error: unknown) => ({ refused: (error as { code?: unknown }).code }),
    );
  }
  return described;
}

/** An outcome in a few words: what it resolved to, cut short, or the code of its refusal. */
export function brief(outcome: Outcome): string {
  const code = codeOf(outcome);
  if (code) return code;
  return JSON.stringify(outcome)
    .replace(/,?"\$frozen":false/g, '')
    .slice(0, 120);
}

/** A difference as a failure prints it: the calls before it, the call, then both outcomes. */
export function formatDifference(difference: Difference): string {
  const show = (outcome: Outcome): string => JSON.stringify(outcome, null, 1).replace(/\n\s*/g, ' ');
  return [
    `seed ${difference.seed}, step ${difference.step}, side ${difference.side}: ${difference.label}`,
    ...difference.before.map((line) => `    ${line}`),
    `  reference: ${show(difference.reference)}`,
    `  ${difference.side}: ${show(difference.actual)}`,
  ].join('\n');
}

/** The call a label names: `setVariable`, `module.execute`... */
function callName(label: string): string {
  const onModule = /^module '[^']*'\.(\w+)/.exec(label);
  return onModule ? `module.${onModule[1]}` : (/^[\w.]+/.exec(label)?.[0] ?? label);
}
