/**
 * What the scenarios share: the model they run on, and the live trace of variable changes and module state
 * transitions that `npm run demo` prints, one indented line each, as they happen.
 * @module
 */
import {
  languageModelFromEnv,
  type LanguageModel,
  type ModuleTool,
  type SessionContext,
  type SyncOutcome,
  type Unwatch,
} from '../src/index.js';
import { startScenarioRuntime, type NatsTarget, type ScenarioRuntime } from './scenario-runtime.js';

/** Where a scenario writes its lines; `console.log` by default, a collecting array in tests. */
export type Log = (line: string) => void;

/** What every scenario accepts besides its log. */
export interface ScenarioOptions {
  /**
   * The LLM. Passed in by the demo so that the model it announces is the one the scenarios use.
   * @default languageModelFromEnv(): `TETHER_AI*` when set, else the offline `tether-echo`
   */
  readonly llm?: LanguageModel;
  /** Run through a node on NATS and the remote client instead of embedded. @default embedded */
  readonly nats?: NatsTarget;
}

/** What the module trace needs of a handle; both kinds have it. */
export interface TracedModule {
  readonly moduleId: string;
  onState(listener: (state: string) => void): () => void;
  on(type: 'module.synced', listener: (event: { readonly outcome: SyncOutcome }) => void): () => void;
}

/** The scenario's model: the one it was given, else the one the environment configures. */
export function scenarioModel(options: ScenarioOptions): LanguageModel {
  return options.llm ?? languageModelFromEnv();
}

/**
 * Starts the scenario's runtime on its model: embedded (in-memory store, no server), or with `options.nats` a
 * node on NATS (started with `tools`, which modules then name) and a remote client.
 */
export function startRuntime(options: ScenarioOptions, tools?: readonly ModuleTool[]): Promise<ScenarioRuntime> {
  return startScenarioRuntime({ llm: scenarioModel(options), ...(tools ? { tools } : {}) }, options.nats);
}

/** Prints every accepted write to the session's variables, definitions included. */
export function traceVariables(session: Pick<SessionContext, 'watchVariables'>, log: Log): Promise<Unwatch> {
  return session.watchVariables('*', (change) => {
    const value = show(change.newValue);
    log(
      change.version === 1
        ? `  watch: ${change.name} = ${value} (v1)`
        : `  watch: ${change.name} ${show(change.oldValue)} → ${value} (v${change.version})`,
    );
  });
}

/**
 * Prints a module's state transitions (`idle → syncing → executing → idle`) and what each sync changed. The
 * initial state is skipped: `onState` reports it first, and it is not a transition. Resolves once it has been
 * reported, which embedded is at once; over NATS it is read with a request, and an execution sent before that
 * answer would have its first transition taken for the initial state.
 */
export async function traceModule(handle: TracedModule, log: Log): Promise<() => void> {
  const name = handle.moduleId;
  let last: string | undefined;
  let initial: () => void = () => {};
  const reported = new Promise<void>((resolve) => (initial = resolve));
  // A type swap is not an attribute change, so the sync outcome's `changes` omits it: compare types here.
  let lastType: string | undefined;
  const offState = handle.onState((state) => {
    if (last !== undefined) log(`  ${name}: ${last} → ${state}`);
    last = state;
    initial();
  });
  const offSync = handle.on('module.synced', ({ outcome }) => {
    const changes = Object.entries(outcome.changes).map(
      ([attribute, [from, to]]) => `${attribute} ${show(from)} → ${show(to)}`,
    );
    if (lastType !== undefined && lastType !== outcome.moduleType)
      changes.unshift(`type ${lastType} → ${outcome.moduleType}`);
    lastType = outcome.moduleType;
    log(
      `  ${name}: synced as ${outcome.moduleType}${changes.length > 0 ? `, ${changes.join(', ')}` : ', nothing changed'}`,
    );
  });
  await reported;
  return () => {
    offState();
    offSync();
  };
}

/**
 * A value for one log line: strings as they are, anything else as JSON, on one line. A long one loses its middle
 * rather than its end, because the offline model puts the parameters it received at the end of its answer.
 */
export function show(value: unknown, max = 160): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')).replace(/\s+/g, ' ');
  if (text.length <= max) return text;
  const keep = Math.floor((max - 3) / 2);
  return `${text.slice(0, keep)} … ${text.slice(text.length - keep)}`;
}
