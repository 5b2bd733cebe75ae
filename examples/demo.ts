/**
 * `npm run demo`: the session-variables scenario and the four scenarios of the original design, run embedded
 * (in-memory store, no server). Every variable change, module state transition and sync is printed as it
 * happens, indented under the scenario's own lines.
 *
 * With `NATS_URL` set, the same scenarios run over NATS instead: each starts a node (`Runtime.start({ nats })`)
 * and drives it through the remote client, so every variable write, module creation and execution is a NATS
 * request and every traced line arrives as a NATS event. The demo uses its own subject prefix, `tether-demo`,
 * and that prefix's buckets (`tether-demo_vars`...), so nodes of a deployment on the same server never serve its
 * requests.
 *
 * The model comes from the environment: with `TETHER_AI` unset it is the offline `tether-echo`, which is not an
 * LLM (it answers with its inputs and the parameters it received); with `TETHER_AI` (and `TETHER_AI_KEY`,
 * `TETHER_AI_URL`, `TETHER_AI_MODEL` as the provider needs) it is that provider.
 * @module
 */
import { BridgeError, languageModelFromEnv, type LanguageModel } from '../src/index.js';
import { runBasicBinding } from './basic-binding.js';
import { runDynamicModule } from './dynamic-module.js';
import { runPipeline } from './pipeline.js';
import { runSyncCallbacks } from './sync-callbacks.js';
import { natsTargetFromEnv } from './scenario-runtime.js';
import type { Log, ScenarioOptions } from './trace.js';
import { runVariablesScenario } from './variables.js';

/** Reads the model once, so the banner and every scenario agree on it; a bad setting ends the demo here. */
function chooseModel(): LanguageModel {
  try {
    return languageModelFromEnv();
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    console.error(`demo: ${error.message}`);
    process.exit(2);
  }
}

const llm = chooseModel();
console.log(
  llm.offline
    ? `Model: ${llm.provider} (offline, not an LLM: it echoes its input and the parameters it received; set TETHER_AI to use a provider)`
    : `Model: ${llm.provider}${llm.defaultModel ? ` / ${llm.defaultModel}` : ' (provider default model)'}`,
);
const nats = natsTargetFromEnv();
if (nats) {
  console.log(
    `Over NATS at ${nats.shown}: a node per scenario, driven through the remote client (prefix ${nats.prefix}, sessions *-${nats.runId})`,
  );
  // A user and password in NATS_URL stay out of the hint: the CLI reads the same NATS_URL when given no --nats.
  const follow = `npm run tether -- events --prefix ${nats.prefix}`;
  console.log(
    nats.shown === nats.servers
      ? `  follow it live: ${follow} --nats ${nats.servers}`
      : `  follow it live: ${follow} (with the same NATS_URL set)`,
  );
}

const scenarios: readonly [string, (log: Log, options: ScenarioOptions) => Promise<void>][] = [
  ['Session variables', runVariablesScenario],
  ['1. Basic binding: temperature and max tokens follow session variables', runBasicBinding],
  ['2. Dynamic module: a module variable switches ChainOfThought to ReAct', runDynamicModule],
  ['3. Sync callbacks: a temperature history across three changes', runSyncCallbacks],
  ['4. Pipeline: understand → reason → summarize, configured in one atomic batch', runPipeline],
];

// A provider can fail mid-demo (quota, network, an answer Ax cannot parse): report it and go on with the rest.
let failures = 0;
for (const [title, run] of scenarios) {
  console.log(`\n== ${title}`);
  try {
    await run(console.log, { llm, ...(nats ? { nats } : {}) });
  } catch (error) {
    failures += 1;
    console.log(`  failed: ${error instanceof BridgeError ? `${error.code}: ${error.message}` : String(error)}`);
  }
}
if (failures > 0) process.exitCode = 1;
