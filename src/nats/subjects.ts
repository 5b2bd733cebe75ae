/**
 * The NATS subjects Tether answers and publishes on, built from one configurable prefix (default `tether`):
 *
 * - `<prefix>.v1.session.<sid>.open` — get-or-create a session;
 * - `<prefix>.v1.session.<sid>.var.<op>` — one subject per variable operation ({@link VARIABLE_OPERATIONS});
 * - `<prefix>.v1.session.<sid>.module.<mid>.<op>` — one subject per module operation ({@link MODULE_OPERATIONS});
 * - `<prefix>.v1.session.<sid>.module.list` — the modules of a session (one token fewer than an operation, so a
 *   module may itself be called `list`);
 * - `<prefix>.v1.sessions.list` — the sessions that exist, a page at a time (see session-listing.ts);
 * - `<prefix>.v1.events.<sid>.var.<name>` — one event per accepted variable change;
 * - `<prefix>.v1.events.<sid>.module.<mid>` — module state changes, results, failures, syncs and deltas;
 * - `<prefix>.v1.events.<sid>.session` — the session ended: `{ sessionId, incarnation, reason }`, `reason` being
 *   `deleted` or `expired`, published once by the node that removed it (see session-removal.ts);
 * - `<prefix>.v1.control.<sid>.module.<mid>.<op>` — node to node, no queue group: every node hears a module's
 *   `cancel` and `stop`, since any of them may be running it (see module-control.ts);
 * - `<prefix>.v1.control.<sid>.session.end` — node to node, no queue group: a session was deleted or expired, and
 *   every node ends its processes of it (see session-control.ts);
 * - `<prefix>.v1.forward.<sid>.module.<mid>.<op>` — node to node: the `execute` and `describe` of a module whose
 *   spec stays on the node that created it, passed on by the node a client's request reached; only that node
 *   subscribes (see module-forward.ts);
 * - `<prefix>.v1.node.<nodeId>.<sid>.module.<mid>.outcome` — client to one node, `nodeId` its instance id of the
 *   `tether` service: what became of an execution that node accepted, asked by a client that may have lost its
 *   reply (see execution-replies.ts); with `nodeId` {@link ALL_NODES}, heard by every node, for a client that never
 *   learnt which node took it;
 * - `<prefix>.v1.inspect.<sid>.session` and `<prefix>.v1.inspect.<sid>.module.<mid>` — the processes' snapshots,
 *   from nodes started with `inspect: true`.
 *
 * Session ids, variable names and module ids become single subject tokens, which is why their rules forbid
 * dots, wildcards and white space (src/variables/names.ts). The version token lets a v2 run beside v1.
 * @module
 */
import { ValidationError } from '../errors.js';
import { isSessionId } from '../variables/names.js';

import {
  FORWARDED_OPERATIONS,
  MODULE_OPERATIONS,
  isVariableOperation,
  type ForwardedOperation,
  type ModuleControlOperation,
  type ModuleOperation,
  type VariableOperation,
} from './operations.js';
import { printable } from '../printable.js';

/** What a module request subject names; `undefined` from {@link TetherSubjects.parseModuleRequest} when it is not one. */
export type ParsedModuleRequest =
  | {
      readonly kind: 'module';
      readonly sessionId: string;
      readonly moduleId: string;
      readonly operation: ModuleOperation;
    }
  | { readonly kind: 'list'; readonly sessionId: string };

/** The default subject prefix. */
export const DEFAULT_PREFIX = 'tether';

/**
 * The node token of an outcome question every node hears: a client whose wait dropped before it learnt the node
 * that took its execution asks them all, and only a node that has the execution in hand or its reply kept answers.
 * No node is called so: node ids are 22-character NUIDs.
 */
export const ALL_NODES = 'all';

/** The protocol version token. */
const VERSION = 'v1';

/** A prefix is one or more plain tokens: no wildcards, no empty tokens, no white space. */
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Whether `prefix` can prefix Tether's subjects: dot-separated tokens of letters, digits, `_` and `-`.
 * @example
 * isSubjectPrefix('acme.tether') // true
 * isSubjectPrefix('a b')         // false
 */
export function isSubjectPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && PREFIX_PATTERN.test(prefix);
}

/** What a request subject names; `undefined` from {@link TetherSubjects.parseRequest} when it is not ours. */
export type ParsedRequest =
  | { readonly kind: 'open'; readonly sessionId: string }
  | { readonly kind: 'delete'; readonly sessionId: string }
  | { readonly kind: 'var'; readonly sessionId: string; readonly operation: VariableOperation };

/** Subject builders and parsers for one prefix. */
export interface TetherSubjects {
  readonly prefix: string;
  /** `<prefix>.v1.session.<sid>.open` */
  open(sessionId: string): string;
  /** `<prefix>.v1.session.<sid>.delete` */
  deleteSession(sessionId: string): string;
  /** `<prefix>.v1.session.<sid>.var.<op>` */
  variable(sessionId: string, operation: VariableOperation): string;
  /** The subscription of one endpoint: `<prefix>.v1.session.*.var.<op>` (or `.open` without an operation). */
  endpoint(operation: VariableOperation | 'open'): string;
  /** The subscription of the session delete endpoint: `<prefix>.v1.session.*.delete`. */
  deleteEndpoint(): string;
  /** `<prefix>.v1.sessions.list`: the sessions that exist, a page at a time (no session token: it names none). */
  sessionsList(): string;
  /** `<prefix>.v1.session.<sid>.module.<mid>.<op>` */
  module(sessionId: string, moduleId: string, operation: string): string;
  /** `<prefix>.v1.session.<sid>.module.list` */
  moduleList(sessionId: string): string;
  /** The subscription of one module endpoint: `<prefix>.v1.session.*.module.*.<op>`, or `….*.module.list`. */
  moduleEndpoint(operation: ModuleOperation | 'list'): string;
  /** `<prefix>.v1.control.<sid>.module.<mid>.<op>`: heard by every node. */
  moduleControl(sessionId: string, moduleId: string, operation: ModuleControlOperation): string;
  /** What every node subscribes to for control messages: `<prefix>.v1.control.*.module.*.*` */
  moduleControls(): string;
  /** `<prefix>.v1.control.<sid>.session.end`: heard by every node (see session-control.ts). */
  sessionControl(sessionId: string): string;
  /** What every node subscribes to for the ends of sessions: `<prefix>.v1.control.*.session.end` */
  sessionControls(): string;
  /** Reads a session control subject into its session id (unchecked, as by `parseRequest`). */
  parseSessionControl(subject: string): string | undefined;
  /** `<prefix>.v1.forward.<sid>.module.<mid>.<op>`: heard by the node that has the module (see module-forward.ts). */
  moduleForward(sessionId: string, moduleId: string, operation: ForwardedOperation): string;
  /** What the node that has a module subscribes to for its passed-on requests: `….forward.<sid>.module.<mid>.*` */
  moduleForwards(sessionId: string, moduleId: string): string;
  /** Every module's forward subjects: `<prefix>.v1.forward.*.module.*.*` */
  allModuleForwards(): string;
  /**
   * `<prefix>.v1.node.<nodeId>.<sid>.module.<mid>.outcome`: heard by the node `nodeId`, or by every node for `all`
   * (no node is called so: node ids are 22-character NUIDs; see execution-replies.ts).
   */
  executionOutcome(nodeId: string, sessionId: string, moduleId: string): string;
  /** What the node `nodeId` subscribes to for the outcomes it is asked for: `<prefix>.v1.node.<nodeId>.*.module.*.outcome` */
  executionOutcomes(nodeId: string): string;
  /** Reads an outcome subject into its session and module (tokens unchecked, as by `parseRequest`). */
  parseExecutionOutcome(subject: string): { readonly sessionId: string; readonly moduleId: string } | undefined;
  /** `<prefix>.v1.events.<sid>.var.<name>` */
  variableEvent(sessionId: string, name: string): string;
  /** Every variable event of a session: `<prefix>.v1.events.<sid>.var.*` */
  variableEvents(sessionId: string): string;
  /** `<prefix>.v1.events.<sid>.session`: the session's end (deleted or expired). */
  sessionEvent(sessionId: string): string;
  /** `<prefix>.v1.events.<sid>.module.<mid>` */
  moduleEvent(sessionId: string, moduleId: string): string;
  /** Every module event of a session: `<prefix>.v1.events.<sid>.module.*` */
  moduleEvents(sessionId: string): string;
  /** `<prefix>.v1.events.>` — every event. */
  allEvents(): string;
  /** `<prefix>.v1.inspect.>`: every inspected snapshot. */
  inspect(): string;
  /** `<prefix>.v1.inspect.<sid>.session`: the snapshots of a session's process. */
  inspectSession(sessionId: string): string;
  /** `<prefix>.v1.inspect.<sid>.module.<mid>`: the snapshots of a module's process. */
  inspectModule(sessionId: string, moduleId: string): string;
  /**
   * Reads a request subject. The session token is returned as sent, unchecked: the service answers a bad one
   * with `validation_failed` rather than silence.
   */
  parseRequest(subject: string): ParsedRequest | undefined;
  /** Reads a module request subject; tokens are returned unchecked, as by `parseRequest`. */
  parseModuleRequest(subject: string): ParsedModuleRequest | undefined;
  /** Reads a control subject into its session, module and operation. */
  parseModuleControl(
    subject: string,
  ): { readonly sessionId: string; readonly moduleId: string; readonly operation: ModuleControlOperation } | undefined;
  /** Reads a forward subject into its session, module and operation; tokens are returned unchecked. */
  parseModuleForward(
    subject: string,
  ): { readonly sessionId: string; readonly moduleId: string; readonly operation: ForwardedOperation } | undefined;
  /** Reads an event subject into its session and variable name. */
  parseVariableEvent(subject: string): { readonly sessionId: string; readonly name: string } | undefined;
}

const MODULE_OPS = new Set<string>(MODULE_OPERATIONS);
const FORWARDED_OPS = new Set<string>(FORWARDED_OPERATIONS);

/**
 * Builds the subjects for `prefix`.
 * @example
 * const subjects = createSubjects();
 * subjects.variable('chat-1', 'set')           // 'tether.v1.session.chat-1.var.set'
 * subjects.variableEvent('chat-1', 'temperature') // 'tether.v1.events.chat-1.var.temperature'
 */
export function createSubjects(prefix: string = DEFAULT_PREFIX): TetherSubjects {
  if (!isSubjectPrefix(prefix)) {
    throw new ValidationError(
      `invalid subject prefix '${printable(prefix).slice(0, 60)}': dot-separated tokens of letters, digits, _ or -`,
      {
        details: { constraint: 'prefix' },
      },
    );
  }
  const base = `${prefix}.${VERSION}`;
  const sessionBase = `${base}.session.`;
  const eventBase = `${base}.events.`;
  const controlBase = `${base}.control.`;
  const forwardBase = `${base}.forward.`;
  const nodeBase = `${base}.node.`;
  // Builders check their tokens: a dot or a space in one would silently address another subject, or break the
  // protocol line of the connection that sends it.
  const token = (value: string, what: string): string => {
    if (!isSessionId(value))
      throw new ValidationError(`invalid ${what} '${printable(value).slice(0, 60)}' for a subject token`, {
        details: { constraint: what },
      });
    return value;
  };

  return {
    prefix,
    open: (sessionId) => `${sessionBase}${token(sessionId, 'sessionId')}.open`,
    deleteSession: (sessionId) => `${sessionBase}${token(sessionId, 'sessionId')}.delete`,
    variable: (sessionId, operation) => `${sessionBase}${token(sessionId, 'sessionId')}.var.${operation}`,
    endpoint: (operation) => (operation === 'open' ? `${sessionBase}*.open` : `${sessionBase}*.var.${operation}`),
    deleteEndpoint: () => `${sessionBase}*.delete`,
    sessionsList: () => `${base}.sessions.list`,
    module: (sessionId, moduleId, operation) =>
      `${sessionBase}${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}.${token(operation, 'operation')}`,
    variableEvent: (sessionId, name) => `${eventBase}${token(sessionId, 'sessionId')}.var.${token(name, 'variable')}`,
    variableEvents: (sessionId) => `${eventBase}${token(sessionId, 'sessionId')}.var.*`,
    sessionEvent: (sessionId) => `${eventBase}${token(sessionId, 'sessionId')}.session`,
    moduleList: (sessionId) => `${sessionBase}${token(sessionId, 'sessionId')}.module.list`,
    moduleEndpoint: (operation) =>
      operation === 'list' ? `${sessionBase}*.module.list` : `${sessionBase}*.module.*.${operation}`,
    moduleControl: (sessionId, moduleId, operation) =>
      `${controlBase}${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}.${operation}`,
    moduleControls: () => `${controlBase}*.module.*.*`,
    sessionControl: (sessionId) => `${controlBase}${token(sessionId, 'sessionId')}.session.end`,
    sessionControls: () => `${controlBase}*.session.end`,
    parseSessionControl(subject) {
      if (!subject.startsWith(controlBase)) return undefined;
      const tokens = subject.slice(controlBase.length).split('.');
      const [sessionId, kind, operation] = tokens;
      return tokens.length === 3 && kind === 'session' && operation === 'end' ? sessionId : undefined;
    },
    moduleForward: (sessionId, moduleId, operation) =>
      `${forwardBase}${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}.${operation}`,
    moduleForwards: (sessionId, moduleId) =>
      `${forwardBase}${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}.*`,
    allModuleForwards: () => `${forwardBase}*.module.*.*`,
    executionOutcome: (nodeId, sessionId, moduleId) =>
      `${nodeBase}${token(nodeId, 'nodeId')}.${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}.outcome`,
    executionOutcomes: (nodeId) => `${nodeBase}${token(nodeId, 'nodeId')}.*.module.*.outcome`,
    parseExecutionOutcome(subject) {
      if (!subject.startsWith(nodeBase)) return undefined;
      const [, sessionId, kind, moduleId, operation, ...rest] = subject.slice(nodeBase.length).split('.');
      if (kind !== 'module' || operation !== 'outcome' || rest.length > 0) return undefined;
      return sessionId === undefined || moduleId === undefined ? undefined : { sessionId, moduleId };
    },
    moduleEvent: (sessionId, moduleId) =>
      `${eventBase}${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}`,
    moduleEvents: (sessionId) => `${eventBase}${token(sessionId, 'sessionId')}.module.*`,
    allEvents: () => `${base}.events.>`,
    inspect: () => `${base}.inspect.>`,
    inspectSession: (sessionId) => `${base}.inspect.${token(sessionId, 'sessionId')}.session`,
    inspectModule: (sessionId, moduleId) =>
      `${base}.inspect.${token(sessionId, 'sessionId')}.module.${token(moduleId, 'moduleId')}`,

    parseRequest(subject) {
      if (!subject.startsWith(sessionBase)) return undefined;
      const tokens = subject.slice(sessionBase.length).split('.');
      const [sessionId, kind, operation] = tokens;
      if (sessionId === undefined) return undefined;
      if (tokens.length === 2 && kind === 'open') return { kind: 'open', sessionId };
      if (tokens.length === 2 && kind === 'delete') return { kind: 'delete', sessionId };
      if (tokens.length === 3 && kind === 'var' && operation !== undefined && isVariableOperation(operation)) {
        return { kind: 'var', sessionId, operation };
      }
      return undefined;
    },

    parseModuleRequest(subject) {
      if (!subject.startsWith(sessionBase)) return undefined;
      const tokens = subject.slice(sessionBase.length).split('.');
      const [sessionId, kind, moduleId, operation] = tokens;
      if (sessionId === undefined || kind !== 'module' || moduleId === undefined) return undefined;
      if (tokens.length === 3 && moduleId === 'list') return { kind: 'list', sessionId };
      if (tokens.length === 4 && operation !== undefined && MODULE_OPS.has(operation)) {
        return { kind: 'module', sessionId, moduleId, operation: operation as ModuleOperation };
      }
      return undefined;
    },

    parseModuleControl(subject) {
      if (!subject.startsWith(controlBase)) return undefined;
      const tokens = subject.slice(controlBase.length).split('.');
      const [sessionId, kind, moduleId, operation] = tokens;
      if (tokens.length !== 4 || kind !== 'module' || sessionId === undefined || moduleId === undefined)
        return undefined;
      if (operation !== 'cancel' && operation !== 'stop') return undefined;
      return { sessionId, moduleId, operation };
    },

    parseModuleForward(subject) {
      if (!subject.startsWith(forwardBase)) return undefined;
      const tokens = subject.slice(forwardBase.length).split('.');
      const [sessionId, kind, moduleId, operation] = tokens;
      if (tokens.length !== 4 || kind !== 'module' || sessionId === undefined || moduleId === undefined)
        return undefined;
      if (operation === undefined || !FORWARDED_OPS.has(operation)) return undefined;
      return { sessionId, moduleId, operation: operation as ForwardedOperation };
    },

    parseVariableEvent(subject) {
      if (!subject.startsWith(eventBase)) return undefined;
      const tokens = subject.slice(eventBase.length).split('.');
      const [sessionId, kind, name] = tokens;
      if (tokens.length !== 3 || kind !== 'var' || sessionId === undefined || name === undefined) return undefined;
      return { sessionId, name };
    },
  };
}
