/**
 * What the variable-aware layer costs: a VariableAwarePredict with five variables bound in a real embedded
 * session, against a raw Ax forward sending the same five options, on the same fixed-answer mock AI, measured in one run with the two interleaved
 * (alternating which goes first) so machine noise hits both alike.
 * Goal: added p50 under 50 µs and a p50 ratio under 1.10.
 * @module
 */
import { VariableAwarePredict } from '../src/modules/index.js';
import { createFixedAnswerModel, createRawAxForward } from '../src/modules/raw-baseline.js';
import type { ModuleParameters } from '../src/modules/module-types.js';
import { Runtime } from '../src/index.js';
import { fmt, samplePair, summarize } from './stats.js';

const SIGNATURE = 'question:string -> answer:string';
const VARIABLES: Record<string, unknown> = {
  llm_temperature: 0.7,
  llm_max_tokens: 256,
  llm_top_p: 0.9,
  llm_presence_penalty: 0.1,
  llm_model: 'bench-model',
};
const BINDINGS: Record<string, string> = {
  temperature: 'llm_temperature',
  maxTokens: 'llm_max_tokens',
  topP: 'llm_top_p',
  presencePenalty: 'llm_presence_penalty',
  model: 'llm_model',
};
const PARAMS: ModuleParameters = {
  temperature: 0.7,
  maxTokens: 256,
  topP: 0.9,
  presencePenalty: 0.1,
  model: 'bench-model',
};

/** Runs the comparison and returns printable lines. */
export async function benchModuleOverhead(iterations = 4000, warmup = 1000): Promise<string[]> {
  const llm = createFixedAnswerModel();
  const raw = createRawAxForward(llm, SIGNATURE);
  // A real embedded session: the sync reads through the session process's committed state, as in production.
  const runtime = await Runtime.start();
  const session = await runtime.session('bench');
  for (const [name, value] of Object.entries(VARIABLES)) {
    await session.defineVariable(
      name,
      typeof value === 'string' ? 'string' : Number.isInteger(value) ? 'integer' : 'float',
      value,
    );
  }
  const module = new VariableAwarePredict(SIGNATURE, { session, llm, maxRetries: 0 });
  for (const [attribute, variable] of Object.entries(BINDINGS)) await module.bindToVariable(attribute, variable);
  const rawParams: ModuleParameters = { ...PARAMS, maxRetries: 0 };
  const values = { question: 'What is the overhead?' };

  const runRaw = async () => {
    const t0 = process.hrtime.bigint();
    await raw(values, rawParams);
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  const runAware = async () => {
    const t0 = process.hrtime.bigint();
    await module.forward(values);
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  for (let i = 0; i < warmup; i++) {
    await runRaw();
    await runAware();
  }
  const rawSamples = new Float64Array(iterations);
  const awareSamples = new Float64Array(iterations);
  const added = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    [rawSamples[i], awareSamples[i]] = await samplePair(i, runRaw, runAware);
    added[i] = awareSamples[i]! - rawSamples[i]!;
  }
  await runtime.stop();
  const rawP = summarize(rawSamples, 0);
  const awareP = summarize(awareSamples, 0);
  const addedP = summarize(added, 0);
  const ratio = awareP.p50 / rawP.p50;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    `module overhead: VariableAwarePredict, 5 bound variables, vs raw Ax forward (same mock AI, ${iterations} interleaved runs)`,
    `  raw Ax forward          p50 ${fmt(rawP.p50).padStart(8)} µs  p99 ${fmt(rawP.p99).padStart(8)} µs`,
    `  variable-aware forward  p50 ${fmt(awareP.p50).padStart(8)} µs  p99 ${fmt(awareP.p99).padStart(8)} µs`,
    `  added (paired)          p50 ${fmt(addedP.p50).padStart(8)} µs  p99 ${fmt(addedP.p99).padStart(8)} µs  (goal p50 < 50 µs: ${verdict(addedP.p50 < 50)})`,
    `  ratio of p50s           ${fmt(ratio, 3)}  (goal < 1.10: ${verdict(ratio < 1.1)})`,
  ];
}
