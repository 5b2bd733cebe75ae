/**
 * The node of the remote-execute bench (b): a node on the offline model, and the raw baseline's responder
 * echoing each request. On `embedded`, times the module's own execute in this process, without NATS, and sends its percentiles.
 * @module
 */
import { connect } from 'nats';
import { Runtime, createEchoModel } from '../../src/index.js';
import type { PeerMain } from '../peer.js';
import { sample } from '../stats.js';
import { nodeOptions, text } from './config.js';

/** Config: `url`, `variablesBucket`, `sessionsBucket`, `modulesBucket`, `rawSubject`. */
export const run: PeerMain = async (config, send) => {
  const node = await Runtime.start({
    onError: () => {},
    // The offline model whatever the environment says: the bench measures Tether, not a provider.
    llm: createEchoModel(),
    nats: nodeOptions(config, 'bench-node'),
  });
  const responder = await connect({ servers: text(config, 'url'), name: 'bench-raw-responder', noAsyncTraces: true });
  const echo = responder.subscribe(text(config, 'rawSubject'), { callback: (_error, msg) => msg.respond(msg.data) });
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
      await responder.close();
      await node.stop();
    }
  };
};
