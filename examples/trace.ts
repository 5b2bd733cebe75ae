/**
 * What the scenarios share: the model they run on, and the live trace of variable changes and module state
 * transitions that `npm run demo` prints, one indented line each, as they happen.
 * @module
 */
import { Runtime, languageModelFromEnv, type LanguageModel, type Session, type Unwatch } from '../src/index.js';

/** Where a scenario writes its lines; `console.log` by default, a collecting array in tests. */
export type Log = (line: string) => void;

/** What every scenario accepts besides its log. */
export interface ScenarioOptions {
  /**
   * The LLM. Passed in by the demo so that the model it announces is the one the scenarios use.
   * @default languageModelFromEnv(): `TETHER_AI*` when set, else the offline `tether-echo`
   */
  readonly llm?: LanguageModel;
}

/**
 * A module process handle. `src/index.ts` exports no `ModuleHandle` type (only `Session`), so it is derived
 * from `session.module()`.
 */
export type ModuleHandle = Awaited<ReturnType<Session['module']>>;

/** The scenario's model: the one it was given, else the one the environment configures. */
export function scenarioModel(options: ScenarioOptions): LanguageModel {
  return options.llm ?? languageModelFromEnv();
}

/** Starts an embedded runtime (in-memory store, no server) on the scenario's model. */
export function startRuntime(options: ScenarioOptions): Promise<Runtime> {
  return Runtime.start({ llm: scenarioModel(options) });
}

/** Prints every accepted write to the session's variables, definitions included. */
export function traceVariables(session: Session, log: Log): Promise<Unwatch> {
  return session.watchVariables('*', (change) => {
    const value = show(change.newValue);
    log(change.version === 1 ? `  watch: ${change.name} = ${value} (v1)` : `  watch: ${change.name} ${show(change.oldValue)} → ${value} (v${change.version})`);
  });
}

/**
 * Prints a module's state transitions (`idle → syncing → executing → idle`) and what each sync changed. The
 * initial state is skipped: `onState` reports it at once, and it is not a transition.
 */
export function traceModule(handle: ModuleHandle, log: Log): () => void {
  const name = handle.moduleId;
  let last: string | undefined;
  // A type swap is not an attribute change, so the sync outcome's `changes` omits it: compare types here.
  let lastType: string | undefined;
  const offState = handle.onState((state) => {
    if (last !== undefined) log(`  ${name}: ${last} → ${state}`);
    last = state;
  });
  const offSync = handle.on('module.synced', ({ outcome }) => {
    const changes = Object.entries(outcome.changes).map(([attribute, [from, to]]) => `${attribute} ${show(from)} → ${show(to)}`);
    if (lastType !== undefined && lastType !== outcome.moduleType) changes.unshift(`type ${lastType} → ${outcome.moduleType}`);
    lastType = outcome.moduleType;
    log(`  ${name}: synced as ${outcome.moduleType}${changes.length > 0 ? `, ${changes.join(', ')}` : ', nothing changed'}`);
  });
  return () => {
    offState();
    offSync();
  };
}

/**
 * Lets watchers catch up before the runtime stops: they are told on a microtask after the write resolves, so
 * the last change would otherwise be lost from the trace.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * A value for one log line: strings as they are, anything else as JSON, on one line. A long one loses its middle
 * rather than its end, because the offline model puts the parameters it received at the end of its answer.
 */
export function show(value: unknown, max = 160): string {
  const text = (typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined').replace(/\s+/g, ' ');
  if (text.length <= max) return text;
  const keep = Math.floor((max - 3) / 2);
  return `${text.slice(0, keep)} … ${text.slice(text.length - keep)}`;
}
