/**
 * `tether serve`: runs a node until SIGINT or SIGTERM. Every node on one NATS with the same prefix and buckets
 * joins the same queue group, so starting more is how a deployment takes more load.
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BridgeError, ValidationError } from '../errors.js';
import type { ModuleTool } from '../modules/module-types.js';
import { UnreachableError, UsageError } from './cli-errors.js';
import { defineCommand, type CommandSpec } from './command.js';
import { NATS_OPTIONS, natsPrefix, natsServers } from './connection.js';
import { untilSignal } from './until-signal.js';
import { parseCount } from './values.js';

const serve = defineCommand({
  path: ['serve'],
  summary: 'run a node: sessions and modules served over NATS until Ctrl-C',
  details: [
    'The node keeps variables in the JetStream KV bucket --buckets names (created if missing) and answers on',
    "the 'tether' service in a queue group: start more nodes with the same options to share the load. The LLM",
    'comes from TETHER_AI* (the offline tether-echo model when unset).',
  ],
  args: [],
  options: {
    ...NATS_OPTIONS,
    buckets: {
      type: 'string',
      placeholder: '<vars,sessions>',
      description: 'the KV buckets of variables and sessions (default tether_vars,tether_sessions)',
    },
    replicas: {
      type: 'string',
      placeholder: '<n>',
      description: 'replicas of the buckets when they are created; 3 on a clustered JetStream (default 1)',
    },
    queue: {
      type: 'string',
      placeholder: '<group>',
      description: 'the queue group nodes share requests in (default tether)',
    },
    name: {
      type: 'string',
      placeholder: '<name>',
      description: 'the connection name the NATS monitoring shows (default tether-node)',
    },
    tools: {
      type: 'string',
      placeholder: '<file>',
      description: 'a .js/.ts module exporting `tools` (an array of tools) that ReAct modules name',
    },
  },
  examples: [
    'tether serve --nats nats://127.0.0.1:4222',
    'NATS_URL=nats://nats-1:4222,nats://nats-2:4222 tether serve --replicas 3',
  ],
  async run({ values }, io) {
    const servers = natsServers(values, io);
    const prefix = natsPrefix(values, io);
    const [variablesBucket, sessionsBucket] =
      values.buckets === undefined ? [] : values.buckets.split(',').map((b) => b.trim());
    const replicas =
      values.replicas === undefined ? undefined : parseCount(values.replicas, '--replicas', this.path, 1);
    // Loaded here, not at the top: the runtime brings Ax, which no other command needs (see connection.ts).
    const { Runtime, languageModelFromEnv } = await import('../index.js');
    // Read once, before connecting: a misconfigured provider stops the node here with a validation error.
    const llm = languageModelFromEnv(io.env);
    const tools = values.tools === undefined ? undefined : await loadTools(values.tools, this.path);
    let runtime: Awaited<ReturnType<typeof Runtime.start>>;
    try {
      runtime = await Runtime.start({
        llm,
        ...(tools === undefined ? {} : { tools }),
        nats: {
          servers,
          ...(prefix === undefined ? {} : { prefix }),
          ...(variablesBucket ? { variablesBucket } : {}),
          ...(sessionsBucket ? { sessionsBucket } : {}),
          ...(replicas === undefined ? {} : { replicas }),
          ...(values.queue === undefined ? {} : { queue: values.queue }),
          ...(values.name === undefined ? {} : { name: values.name }),
        },
        onError: (error, where) =>
          io.err(`tether: ${where}: ${error instanceof Error ? error.message : String(error)}`),
      });
    } catch (error) {
      // Bad options are the user's; anything else at start (refused, no JetStream, a bucket it cannot create)
      // means this NATS cannot host a node.
      if (error instanceof ValidationError || !(error instanceof BridgeError)) throw error;
      throw new UnreachableError(`cannot start a node on NATS at ${servers.join(',')}: ${error.message}`, {
        cause: error,
      });
    }
    const model = llm.offline
      ? `${llm.provider} (offline)`
      : `${llm.provider}${llm.defaultModel ? `/${llm.defaultModel}` : ''}`;
    io.out(
      `tether: node serving on ${servers.join(',')} (prefix ${prefix ?? 'tether'}, model ${model}); Ctrl-C stops it`,
    );
    const signal = await untilSignal();
    await runtime.stop();
    io.out(`tether: node stopped (${signal})`);
  },
});

/**
 * The tools a module file exports as `tools` (or as its default export). Tools are functions, so they cannot
 * travel in a spec: each node loads them, and a spec names them.
 */
async function loadTools(file: string, command: readonly string[]): Promise<readonly ModuleTool[]> {
  let loaded: { tools?: unknown; default?: unknown };
  try {
    loaded = (await import(pathToFileURL(resolve(file)).href)) as { tools?: unknown; default?: unknown };
  } catch (error) {
    throw new UsageError(`--tools ${file}: ${error instanceof Error ? error.message : String(error)}`, command);
  }
  const tools = loaded.tools ?? loaded.default;
  if (!Array.isArray(tools)) throw new UsageError(`--tools ${file} exports no 'tools' array`, command);
  return tools as ModuleTool[];
}

/** The `serve` command. */
export const SERVE_COMMANDS: readonly CommandSpec[] = [serve];
