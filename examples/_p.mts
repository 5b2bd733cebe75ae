import { Runtime, VariableAwarePredict } from '../src/index.js';
import { createFixedAnswerModel, createRawAxForward } from '../src/modules/raw-baseline.js';
const llm = createFixedAnswerModel();
const rt = await Runtime.start();
const s = await rt.session('b');
const V: Record<string, unknown> = { llm_temperature: 0.7, llm_max_tokens: 256, llm_top_p: 0.9, llm_presence_penalty: 0.1, llm_model: 'bench-model' };
for (const [n, v] of Object.entries(V)) await s.defineVariable(n, typeof v === 'string' ? 'string' : Number.isInteger(v) ? 'integer' : 'float', v);
const m = new VariableAwarePredict('question:string -> answer:string', { session: s, llm, maxRetries: 0 });
for (const [a, v] of Object.entries({ temperature: 'llm_temperature', maxTokens: 'llm_max_tokens', topP: 'llm_top_p', presencePenalty: 'llm_presence_penalty', model: 'llm_model' })) await m.bindToVariable(a, v);
const raw = createRawAxForward(llm, 'question:string -> answer:string');
const mode = process.argv[2];
const t0 = performance.now();
for (let i = 0; i < 20000; i++) { if (mode === 'raw') await raw({ question: 'q' }, { temperature: 0.7, maxTokens: 256, topP: 0.9, presencePenalty: 0.1, model: 'bench-model', maxRetries: 0 }); else if (mode === 'sync') await m.syncVariables(); else await m.forward({ question: 'q' }); }
console.log(mode, ((performance.now() - t0) / 20000 * 1000).toFixed(1), 'us/op');
await rt.stop();
