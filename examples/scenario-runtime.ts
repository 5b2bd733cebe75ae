/**
 * Where a scenario runs: embedded (a Runtime in this process, in-memory store: what `npm run demo` does by
 * default) or over NATS (a node started here with `Runtime.start({ nats })`, driven through the remote client,
 * as any other process would). The scenarios are written once against {@link ScenarioRuntime}.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Runtime, connect, type LanguageModel, type ModuleTool, type SessionApi } from '../src/index.js';
import { shownServers } from '../src/nats/connection-options.js';

/** What a scenario starts and uses. */
export interface ScenarioRuntime {
  /** True over NATS: module specs are JSON there (tools by name, no callbacks in bindings). */
  readonly remote: boolean;
  /** The session `name` (over NATS, suffixed with this run's id so a second run starts afresh). */
  session(name: string): Promise<SessionApi>;
  /** Tools as a spec gives them: the objects embedded, their names over NATS (the node was started with them). */
  toolRefs(tools: readonly ModuleTool[]): (ModuleTool | string)[];
  /** Lets the trace catch up: watchers hear of a change on a microtask embedded, by a NATS message remotely. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** What a runtime is started with. */
export interface ScenarioRuntimeOptions {
  readonly llm: LanguageModel;
  /** Tools a module may name; over NATS the node is started with them. */
  readonly tools?: readonly ModuleTool[];
}

/** How the demo reaches NATS; undefined runs embedded. */
export interface NatsTarget {
  readonly servers: string;
  /** `servers` as the demo prints them: without a user and password given in a URL. */
  readonly shown: string;
  /**
   * The demo's own subject prefix, so it never mixes with (or is served by) a deployment's nodes. Its node opens the
   * buckets of that prefix (`tether-demo_vars`...), as `tether serve --prefix tether-demo` would.
   */
  readonly prefix: string;
  /** Suffix of every session id of this run. */
  readonly runId: string;
}

/** The NATS target of `NATS_URL`, or undefined when it is not set. */
export function natsTargetFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): NatsTarget | undefined {
  const servers = env.NATS_URL;
  if (!servers) return undefined;
  return {
    servers,
    shown: shownServers(servers),
    prefix: 'tether-demo',
    runId: randomBytes(3).toString('hex'),
  };
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts an embedded runtime, or a node on `nats` and a client of it. */
export async function startScenarioRuntime(
  options: ScenarioRuntimeOptions,
  nats?: NatsTarget,
): Promise<ScenarioRuntime> {
  if (!nats) {
    const runtime = await Runtime.start({ llm: options.llm });
    return {
      remote: false,
      session: (name) => runtime.session(name),
      toolRefs: (tools) => [...tools],
      settle: () => wait(10),
      stop: () => runtime.stop(),
    };
  }
  const node = await Runtime.start({
    llm: options.llm,
    ...(options.tools ? { tools: options.tools } : {}),
    nats: {
      servers: nats.servers,
      prefix: nats.prefix,
      name: 'tether-demo-node',
    },
  });
  try {
    const client = await connect({ servers: nats.servers, prefix: nats.prefix, name: 'tether-demo-client' });
    return {
      remote: true,
      session: (name) => client.session(`${name}-${nats.runId}`),
      toolRefs: (tools) => tools.map((tool) => tool.name),
      // Events cross the network: give the last ones time to arrive before the trace is cut.
      settle: () => wait(150),
      async stop() {
        await client.close();
        await node.stop();
      },
    };
  } catch (error) {
    await node.stop();
    throw error;
  }
}
