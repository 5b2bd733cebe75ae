/**
 * Special purpose: a node in a process of its own holding one module that stays on it (its tool is a function,
 * so its spec cannot go to the modules bucket), for the tests that kill such a node outright (SIGKILL gives
 * nothing back). Run with `startScript` (cli-process.ts): `test/support/local-module-node.ts <nats url> <vars,sessions,modules>
 * <session id> <module id>`; prints `module ready` once the module is created, and runs until killed.
 */
import { createEchoModel, Runtime, type ModuleTool } from '../../src/index.js';

const [servers, buckets, sessionId, moduleId] = process.argv.slice(2);
const [variablesBucket, sessionsBucket, modulesBucket] = (buckets ?? '').split(',');
if (!servers || !variablesBucket || !sessionsBucket || !modulesBucket || !sessionId || !moduleId) {
  process.stderr.write('usage: local-module-node.ts <nats url> <vars,sessions,modules> <session> <module>\n');
  process.exit(2);
}

const echoTool: ModuleTool = { name: 'echo', description: 'Repeats its input', func: (args) => args };
const runtime = await Runtime.start({
  llm: createEchoModel(),
  onError: () => {},
  nats: { servers, variablesBucket, sessionsBucket, modulesBucket, name: 'local-module-node' },
});
const session = await runtime.session(sessionId);
await session.module(moduleId, { type: 'ReAct', signature: 'question:string -> answer:string', tools: [echoTool] });
process.stdout.write('module ready\n');
