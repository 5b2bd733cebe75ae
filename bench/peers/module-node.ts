/**
 * The node of the remote-execute bench (b): a node on the offline model, and the raw baselines' responders: one
 * echoing each request, and one running the module's Ax program on the same model directly (a hand-written NATS
 * service with no Tether in it). On `embedded`, times the module's own execute in this process, without NATS, and
 * sends its percentiles.
 * @module
 */
import { connect, headers, type Msg } from 'nats';
import { Runtime, createEchoModel } from '../../src/index.js';
import { createRawAxForward } from '../../src/modules/raw-baseline.js';
import type { PeerMain } from '../peer.js';
import { sample } from '../stats.js';
import { nodeOptions, text } from './config.js';

/**
 * Config: `url`, `variablesBucket`, `sessionsBucket`, `modulesBucket`, `rawSubject` (the echo's), `rawAxSubject`
 * and `signature` (the raw Ax service's; it reads `{ inputs, temperature }` and answers the program's output).
 */
export const run: PeerMain = async (config, send) => {
  // The offline model whatever the environment says: the bench measures Tether, not a provider.
  const llm = createEchoModel();
  const node = await Runtime.start({ onError: () => {}, llm, nats: nodeOptions(config, 'bench-node') });
  const responder = await connect({ servers: text(config, 'url'), name: 'bench-raw-responder', noAsyncTraces: true });
  const echo = responder.subscribe(text(config, 'rawSubject'), { callback: (_error, msg) => msg.respond(msg.data) });
  const forward = createRawAxForward(llm, text(config, 'signature'));
  const answerWithAx = async (msg: Msg): Promise<void> => {
    const { inputs, temperature } = msg.json<{ inputs: Record<string, unknown>; temperature: number }>();
    msg.respond(JSON.stringify(await forward(inputs, { temperature })));
  };
  // A failure answered as a service error, so the bench's baseline fails rather than times an error reply.
  const failed = (msg: Msg, error: unknown): void => {
    const header = headers(500, 'raw Ax program failed');
    header.set('Nats-Service-Error', String(error));
    msg.respond(new Uint8Array(), { headers: header });
  };
  const ax = responder.subscribe(text(config, 'rawAxSubject'), {
    callback: (_error, msg) => void answerWithAx(msg).catch((error: unknown) => failed(msg, error)),
  });
  await responder.flush();
  send({ kind: 'ready' });

  return async (message) => {
    if (message.kind === 'embedded') {
      // The process the node runs for the bench's remote calls, called in-process.
      const module = await (await node.session(String(message.sessionId))).module(String(message.moduleId));
      const inputs = message.inputs as Record<string, unknown>;
      send({
        kind: 'embedded',
        figures: await sample(() => module.execute(inputs), Number(message.count), Number(message.warmup)),
      });
    } else if (message.kind === 'stop') {
      echo.unsubscribe();
      ax.unsubscribe();
      await responder.close();
      await node.stop();
    }
  };
};
