/**
 * The concurrency fuzzer's modules: programs on the offline model whose `maxTokens` is bound to the counter, run by
 * the workers while the others write. The offline model answers with the settings it was sent, and the result names
 * the counter version its sync used (`provenance`), so each execution shows what its sync read.
 * @module
 */
import type { ModuleApi } from '../../../src/modules/module-api.js';
import type { ModuleSpec } from '../../../src/index.js';
import { COUNTER, DEFINITIONS } from './variables.js';
import { observe, type Worker } from './worker.js';

/** The module's spec: its token budget is the counter, so every sync reads a value that moves all the time. */
const SPEC: ModuleSpec = {
  type: 'Predict',
  signature: 'question:string -> answer:string',
  bindings: { maxTokens: COUNTER },
};

/** The viewpoint whose handle creates the modules. */
export const CREATOR = 'node1';

/**
 * The modules, by id: one whose spec is JSON (each node runs it in a process of its own, woken from the bucket), and
 * one holding a function, which stays on the node that created it ({@link CREATOR}): the others pass their executions on to it, with
 * what their caller has seen (module-forward.ts).
 */
export const MODULES: Readonly<Record<string, ModuleSpec>> = {
  qa: SPEC,
  local: { ...SPEC, type: 'ReAct', tools: [{ name: 'echo', description: 'Repeats its input', func: (args) => args }] },
};

/** Each worker's handles of the modules, each opened on its first execution. */
const handles = new WeakMap<Worker, Map<string, ModuleApi>>();

/**
 * An execution, which must resolve, and whose sync must have read a version of the counter no older than this handle
 * had read or written (read-your-writes reaches the module's sync, on whichever node the module runs) and sent that
 * version's value as the token budget.
 */
export const execute = async (w: Worker): Promise<void> => {
  // The module that stays on its node is reached by the client through any node, and by the embedded API of its own
  // node only: another node's embedded `session.module` answers `module_not_found` for it (README).
  const reaches = w.name.endsWith(`@${CREATOR}`) || w.name.endsWith('@client');
  const id = reaches ? w.random.pick(Object.keys(MODULES)) : 'qa';
  const opened = handles.get(w) ?? new Map<string, ModuleApi>();
  handles.set(w, opened);
  let module = opened.get(id);
  if (!module) {
    const open = await w.ledger.record(w.name, `module('${id}')`, [], () => w.session.module(id));
    if (!open.ok) return;
    opened.set(id, (module = open.value));
  }
  const known = w.known.get(COUNTER)?.version ?? 1;
  const label = `execute('${id}', #${w.ledger.calls.length}, counter known at version ${known})`;
  const outcome = await w.ledger.record(w.name, label, [], () => module.execute({ question: label }));
  if (!outcome.ok) return;
  const version = outcome.value.provenance[COUNTER];
  const sent = /maxTokens=(\d+)/.exec(String(outcome.value.output.answer))?.[1];
  if (version === undefined || version < known)
    w.ledger.violations.push(`${w.name} ${label}: its sync used the counter's version ${version}`);
  // The counter moves by increments only: version v holds the start value plus v - 1.
  else if (Number(sent) !== (DEFINITIONS[COUNTER].value as number) + version - 1)
    w.ledger.violations.push(`${w.name} ${label}: sent maxTokens=${sent} as the counter's version ${version}`);
  if (version !== undefined) observe(w, label, COUNTER, undefined, version, false);
};
