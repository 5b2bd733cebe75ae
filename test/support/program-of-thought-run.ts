/**
 * Runs a ProgramOfThought module three times on the echo model in an embedded runtime, in a process of its own, so
 * that a test reads what a service running one would print on its stderr. Prints one line per output, then `done`.
 * @module
 */
import { Runtime, createEchoModel } from '../../src/index.js';

const runtime = await Runtime.start({ llm: createEchoModel() });
try {
  const session = await runtime.session('pot');
  const module = await session.module('pot', {
    type: 'ProgramOfThought',
    signature: 'question:string -> answer:string',
  });
  for (let i = 0; i < 3; i++) {
    const { output } = await module.execute({ question: `question ${i}` });
    console.log(JSON.stringify(output));
  }
  console.log('done');
} finally {
  await runtime.stop();
}
