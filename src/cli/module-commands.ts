/**
 * `tether module create|call|list|stop`: module processes of a session, created and executed through any node.
 * Specs are JSON, so tools are named (the node must know them) and sync callbacks are not available here.
 * @module
 */
import type { WireModuleSpec } from '../nats/module-wire-spec.js';
import type { ModuleDescription } from '../../machines/module.machine.js';
import { CANCEL_REPORT, DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS } from '../nats/remote-execution.js';
import type { RemoteModuleHandle } from '../nats/remote-module.js';
import { isPlainObject } from '../variables/json-value.js';
import { CallTimeoutError } from '../errors.js';
import { assertModuleId } from '../modules/module-spec.js';
import { alignedColumns } from './aligned-columns.js';
import { EXIT, ModuleCallTimeoutError, UsageError, errorLine, exitCodeOf } from './cli-errors.js';
import { defineCommand, type CommandSpec } from './command.js';
import { CLIENT_OPTIONS, SESSION_OPTION, withSession } from './connection.js';
import { openIfAccepted } from './open-if-accepted.js';
import { jsonLine } from './output.js';
import { abortOnSignal, signalExitCode, type SignalAbort } from './until-signal.js';
import { parseAssignments, parseJsonObject, parseMs, valueText } from './values.js';

const COMMON = { ...CLIENT_OPTIONS, ...SESSION_OPTION } as const;

const create = defineCommand({
  path: ['module', 'create'],
  summary: 'start a module process whose parameters are bound to session variables',
  args: [{ name: 'id', description: 'the module id (ASCII letters, digits, _ and -)', mayStartWithDash: true }],
  options: {
    ...COMMON,
    type: {
      type: 'string',
      placeholder: '<type>',
      description:
        'Predict, ChainOfThought (COT), ChainOfThoughtWithHint, ReAct, ProgramOfThought (PoT), MultiChainComparison',
    },
    'type-variable': {
      type: 'string',
      placeholder: '<variable>',
      description: 'a module variable whose value is the type (instead of --type)',
    },
    signature: {
      type: 'string',
      placeholder: '<signature>',
      description: "the Ax signature, e.g. 'question:string -> answer:string'",
    },
    bind: {
      type: 'string',
      multiple: true,
      placeholder: '<attr=variable>',
      description: 'bind an attribute (temperature, maxTokens, model, ...) to a variable',
    },
    tool: {
      type: 'string',
      multiple: true,
      placeholder: '<name>',
      description: 'a tool the node knows by this name (ReAct)',
    },
    spec: {
      type: 'string',
      placeholder: '<json>',
      description:
        'spec fields as JSON, e.g. \'{"maxSteps":4,"temperature":0.2}\'; the options above win over the same fields' +
        ' in it, --bind and --tool add to its bindings and tools; - reads it from stdin',
    },
    json: { type: 'boolean', description: "print the module's description as JSON" },
  },
  examples: [
    "tether module create qa --type ChainOfThought --signature 'question:string -> answer:string' --bind temperature=llm_temperature -s chat-1",
    "tether module create solver --type-variable reasoning_module --signature 'question:string -> answer:string' -s chat-1",
    'tether module create summarize --spec - -s chat-1 < spec.json',
  ],
  async run({ values, args }, io) {
    const specText = values.spec === undefined ? undefined : await valueText(values.spec, io, this.path, '--spec');
    const extra = specText === undefined ? {} : parseJsonObject(specText, '--spec', this.path);
    if (extra.bindings !== undefined && !isPlainObject(extra.bindings))
      throw new UsageError('--spec bindings must be an object of attribute: variable', this.path);
    if (extra.tools !== undefined && !Array.isArray(extra.tools))
      throw new UsageError('--spec tools must be a list of tool names', this.path);
    const bindings = { ...extra.bindings, ...parseAssignments(values.bind ?? [], '--bind', this.path) };
    const tools = [...((extra.tools as unknown[] | undefined) ?? []), ...(values.tool ?? [])];
    // The type given by an option replaces the spec's, whichever of the two ways the spec gave it.
    const typed = values.type !== undefined || values['type-variable'] !== undefined;
    const { type: _type, typeVariable: _typeVariable, ...rest } = extra;
    const spec = {
      ...(typed ? rest : extra),
      ...(values.type === undefined ? {} : { type: values.type }),
      ...(values['type-variable'] === undefined ? {} : { typeVariable: values['type-variable'] }),
      ...(values.signature === undefined ? {} : { signature: values.signature }),
      ...(Object.keys(bindings).length > 0 ? { bindings } : {}),
      ...(tools.length > 0 ? { tools } : {}),
    };
    if ('type' in spec === 'typeVariable' in spec)
      throw new UsageError(
        'give exactly one of --type or --type-variable (or type or typeVariable in --spec)',
        this.path,
      );
    if (!('signature' in spec)) throw new UsageError('missing --signature (or signature in --spec)', this.path);
    const moduleId = checkedModuleId(args.id);
    const description = await withSession(values, io, this.path, {}, async (session, client) => {
      // Its fields as the user typed them: the node checks the spec, and refuses a bad one naming the field. The
      // session is opened only once the node has found no fault with the spec's shape (see open-if-accepted.ts).
      const { result: handle } = await openIfAccepted(client, session, (target) =>
        target.module(moduleId, spec as unknown as WireModuleSpec),
      );
      return handle.describe();
    });
    io.out(
      values.json
        ? jsonLine(description)
        : `module ${description.moduleId} (${description.moduleType}) started in session ${description.sessionId}`,
    );
  },
});

const call = defineCommand({
  path: ['module', 'call'],
  summary: 'execute a module once and print the result as JSON',
  details: [
    'Prints {"executionId","moduleId","moduleType","output","provenance",...}; provenance gives the version of every',
    'variable the execution used. --input values are strings; use --inputs for other types. --timeout bounds the whole',
    'call: finding the module and the execution share it.',
  ],
  args: [{ name: 'id', description: 'the module id', mayStartWithDash: true }],
  options: {
    ...COMMON,
    // Not the requests' 5 s: an execution waits as long as its node lets it run, up to the default the client knows
    // (it cannot learn a node's own; past it, the call times out and the execution is cancelled).
    timeout: {
      ...COMMON.timeout,
      description: `how long the whole call waits, finding the module and its execution together (default: 5000 to find it, then the node's execution timeout, ${DEFAULT_REMOTE_EXECUTION_TIMEOUT_MS} unless it sets a shorter one; a node that allows longer needs --timeout)`,
    },
    input: { type: 'string', multiple: true, placeholder: '<field=value>', description: 'an input field (a string)' },
    inputs: {
      type: 'string',
      placeholder: '<json>',
      description: 'the inputs as one JSON object (merged under --input); - reads it from stdin',
    },
  },
  examples: [
    "tether module call qa --input question='Why is the sky blue?' -s chat-1",
    `tether module call qa --inputs '{"question":"Why?"}' -s chat-1 | jq .output`,
    'tether module call summarize --inputs - -s chat-1 < inputs.json',
  ],
  async run({ values, args }, io) {
    const given = values.inputs === undefined ? undefined : await valueText(values.inputs, io, this.path, '--inputs');
    const inputs = {
      ...(given === undefined ? {} : parseJsonObject(given, '--inputs', this.path)),
      ...parseAssignments(values.input ?? [], '--input', this.path),
    };
    if (Object.keys(inputs).length === 0)
      throw new UsageError('no inputs: give --input <field=value> or --inputs <json>', this.path);
    // --timeout bounds the whole call, finding the module and its execution (an LLM call takes longer than a
    // variable read) together: the execution gets what finding the module left of it.
    const timeoutMs = values.timeout === undefined ? undefined : parseMs(values.timeout, '--timeout', this.path);
    // The usage errors first, then the refusals (as every command orders them).
    const moduleId = checkedModuleId(args.id);
    // Ctrl-C (or SIGTERM) cancels the execution on the node, so it does not run on and pay for an LLM call nobody
    // waits for; the client's close waits for the cancel to get out. Then the exit code of the signal. Until the
    // execution is sent (connecting, finding the module) there is nothing to cancel: the signal ends the command at
    // once, as it does any other.
    let interrupt: SignalAbort | undefined;
    // The client's news stays quiet, but a cancel that reached no node is part of the outcome: said on the one line.
    let cancelLost = false;
    const onError = (_error: unknown, where: string): void => void (cancelLost ||= where.startsWith(CANCEL_REPORT));
    try {
      const result = await withSession(values, io, this.path, { onError }, async (session) => {
        // A timeout is said as the call the user made, not as the request that timed out (ModuleCallTimeoutError).
        const timedOut = (sent: boolean, cause?: CallTimeoutError): ModuleCallTimeoutError =>
          new ModuleCallTimeoutError(
            moduleId,
            session.sessionId,
            timeoutMs ?? cause?.timeoutMs ?? 0,
            timeoutMs !== undefined,
            sent,
            { cause },
          );
        const start = performance.now();
        const module = await session.module(moduleId).catch((error: unknown) => {
          throw error instanceof CallTimeoutError ? timedOut(false, error) : error;
        });
        const leftMs = timeoutMs === undefined ? undefined : Math.floor(timeoutMs - (performance.now() - start));
        if (leftMs !== undefined && leftMs < 1) throw timedOut(false);
        interrupt = abortOnSignal();
        return module
          .execute(inputs, { signal: interrupt.signal, ...(leftMs === undefined ? {} : { timeoutMs: leftMs }) })
          .catch((error: unknown) => {
            throw error instanceof CallTimeoutError ? timedOut(true, error) : error;
          });
      });
      io.out(jsonLine(result));
      return EXIT.ok;
    } catch (error) {
      const signal = interrupt?.received();
      io.err(errorLine(error) + (cancelLost ? '; its cancel reached no node, so it may still be running' : ''));
      return signal === undefined ? exitCodeOf(error) : signalExitCode(signal);
    } finally {
      interrupt?.dispose();
    }
  },
});

const list = defineCommand({
  path: ['module', 'list'],
  summary: "list a session's modules",
  details: [
    'Prints one line per module: its id, type and state, and the executions finished and failed as the node that',
    "answered counts them: each node counts its own process's, and nodes spread a module's executions between them.",
  ],
  args: [],
  options: { ...COMMON, json: { type: 'boolean', description: 'print the descriptions as one JSON array' } },
  examples: ['tether module list -s chat-1', 'tether module list -s chat-1 --json'],
  async run({ values }, io) {
    const descriptions = await withSession(values, io, this.path, {}, async (session) =>
      describedStill(await session.modules()),
    );
    if (values.json) io.out(jsonLine(descriptions));
    else
      for (const line of alignedColumns(
        descriptions.map((d) => [
          d.moduleId,
          d.moduleType,
          d.state,
          `${d.completed} completed, ${d.failed} failed on the node that answered`,
        ]),
      ))
        io.out(line);
  },
});

/**
 * The descriptions of `modules`, but for those stopped since they were listed (another client's stop, a normal thing
 * in a shared session): one of them failed the whole listing with `module_not_found`, naming a module nobody asked
 * about. Any other failure is the listing's.
 */
async function describedStill(modules: readonly RemoteModuleHandle[]): Promise<ModuleDescription[]> {
  const outcomes = await Promise.allSettled(modules.map((handle) => handle.describe()));
  return outcomes.flatMap((outcome) => {
    if (outcome.status === 'fulfilled') return [outcome.value];
    if ((outcome.reason as { code?: unknown } | null)?.code === 'module_not_found') return [];
    throw outcome.reason;
  });
}

const stop = defineCommand({
  path: ['module', 'stop'],
  summary: 'stop a module for good: no node runs it any more',
  details: [
    'Prints "module <id> stopped". Its spec leaves the modules bucket and every node stops its process; executions',
    'queued for it are refused. Requests for it then get module_not_found, as does stopping a module that does not',
    'exist (exit 1). The id is free for a new module.',
  ],
  args: [{ name: 'id', description: 'the module id', mayStartWithDash: true }],
  options: { ...COMMON },
  examples: ['tether module stop qa -s chat-1'],
  async run({ values, args }, io) {
    const moduleId = checkedModuleId(args.id);
    await withSession(values, io, this.path, {}, async (session) => {
      // Found first: the handle's stop takes a module already gone as stopped, where the user who named one that
      // does not exist should hear so (module_not_found, exit 1).
      const module = await session.module(moduleId);
      await module.stop();
    });
    io.out(`module ${moduleId} stopped`);
  },
});

/**
 * The module id argument, checked before connecting (an unreachable NATS must not hide a bad id): refused as the
 * node refuses it, `validation_failed` (exit 1), as a positional argument always is.
 */
function checkedModuleId(id: string | undefined): string {
  assertModuleId(id);
  return id;
}

/** The `module` command group. */
export const MODULE_COMMANDS: readonly CommandSpec[] = [create, call, list, stop];
