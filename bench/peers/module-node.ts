/**
 * The node of the remote-execute bench (b): a node on the offline model, and the raw baseline's responder
 * echoing each request. On `embedded`, times the module's own execute in this process, without NATS.
 * @module
 */
import { connect } from 'nats';
import { Runtime, createEchoModel } from '../../src/index.js';
import type { PeerMain } from '../peer.js';

/** Config: `url`, `variablesBucket`, `sessionsBucket`, `modulesBucket`, `rawSubject`. */
export const run: PeerMain = async (config, send) => {
  const str = (key: string): string => String(config[key]);
  const node = await Runtime.start({
    onError: () => {},
    // The offline model whatever the environment says: the bench measures Tether, not a provider.
    llm: createEchoModel(),
    nats: {
      servers: str('url'),
      variablesBucket: str('variablesBucket'),
      sessionsBucket: str('sessionsBucket'),
      modulesBucket: str('modulesBucket'),
      name: 'bench-node',
    },
  });
  const responder = await connect({ servers: str('url'), name: 'bench-raw-responder', noAsyncTraces: true });
  const echo = responder.subscribe(str('rawSubject'), { callback: (_error, msg) => msg.respond(msg.data) });
  await responder.flush();
  send({ kind: 'ready' });

  return async (message) => {
    if (message.kind === 'embedded') {
      // The process the node runs for the bench's remote calls, called in-process.
      const module = await (await node.session(String(message.sessionId))).module(String(message.moduleId));
      const inputs = message.inputs as Record<string, unknown>;
      const samples = new Float64Array(Number(message.count));
      for (let i = 0; i < Number(message.warmup); i++) await module.execute(inputs);
      for (let i = 0; i < samples.length; i++) {
        const t0 = process.hrtime.bigint();
        await module.execute(inputs);
        samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      send({ kind: 'embedded', samples });
    } else if (message.kind === 'stop') {
      echo.unsubscribe();
      await responder.close();
      await node.stop();
    }
  };
};
