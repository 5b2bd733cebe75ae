/**
 * The module endpoints of the `tether` service, in the same queue group as the session endpoints:
 *
 * | subject                                         | body                                   | result                      |
 * | ----------------------------------------------- | -------------------------------------- | --------------------------- |
 * | `tether.v1.session.<sid>.module.<mid>.create`   | `{ spec }` (a {@link WireModuleSpec})  | `ModuleDescription`         |
 * | `tether.v1.session.<sid>.module.<mid>.execute`  | `{ inputs, executionId?, timeoutMs? }` | `ExecutionResult`           |
 * | `tether.v1.session.<sid>.module.<mid>.describe` | `{}`                                   | `ModuleDescription`         |
 * | `tether.v1.session.<sid>.module.<mid>.cancel`   | `{ executionId, reason? }`             | `{ cancelled: boolean }`    |
 * | `tether.v1.session.<sid>.module.<mid>.stop`     | `{}`                                   | `{ stopped: true }`         |
 * | `tether.v1.session.<sid>.module.list`           | `{}`                                   | `[{ moduleId, spec }]` (1)  |
 *
 * (1) or `{ moduleId, node }` for a module that stays on the node `node` (see below).
 *
 * A request reaching a node with no process for the module wakes it there from its spec in the modules bucket, so
 * several nodes may run one module at once: each node's mailbox is ordered, but two nodes' executions of one
 * module run side by side. `describe` answers for the process of the node that takes it. The client's
 * `Tether-Min-Revision` is honoured before anything runs, so the module syncs values at least that new.
 *
 * Module specs have read-your-writes too. Every reply (errors included) carries, beside `revision`, the field
 * `modulesRevision`: the highest modules-bucket revision the node knows, at least that of the spec its `create`
 * wrote or the removal its `stop` wrote. A request with the `Tether-Min-Modules-Revision` header (a whole number;
 * anything else is `validation_failed` and nothing runs) waits until the node's watch of the modules bucket has
 * applied that revision, at most as long as for `Tether-Min-Revision` (2 s), then fails with `call_timeout`
 * naming `modules revision <n>`. A node's process of a spec its watch saw removed or replaced serves nothing from
 * then on, so a client that sends the highest `modulesRevision` it has seen never has a module it saw stopped run
 * (`module_not_found`), nor one it saw created again run its old spec, on whichever node answers. Without the
 * header there is no wait (clients that predate it work as before, with no such ordering across nodes). An
 * `execute` carrying `Tether-Accept-Notice` is first answered with an acceptance notice naming this node, once it
 * passed its checks and unless its reply is ready within the event-loop turn that took it, so that its caller can
 * watch the node while it waits (see `ACCEPT_NOTICE_HEADER`). The node keeps the reply of an `execute` that named its
 * `executionId` for a while (a few thousand, two minutes), so that a caller whose connection dropped as it went out
 * can ask this node for it again on its own subject (see execution-replies.ts). A request with the
 * `Tether-Incarnation` header (every request of a module handle got from a session handle that knows its life) is
 * refused as the session requests are (`session_not_found`, or `session_expired` when this node heard that life
 * expire) unless that life is the session's current one, before any module is woken or run (see session-of-life.ts).
 * A `create` whose session is not there has its spec judged as in a new, empty session before that is said
 * (see `ModuleHost.judgeCreate`).
 *
 * A module whose spec holds functions cannot be in the bucket: it stays on the node that created it, and the
 * bucket holds that node's claim of its id instead (see module-claims.ts), so ids are one namespace for both kinds.
 * A node that gets an `execute` or `describe` for a module it has no process of and no spec for (a claim is never
 * woken as a spec) passes the request on to that node and relays its answer as it came (result or typed error,
 * with that node's `revision` and `modulesRevision`), `module_not_found` when no node has the module (see
 * module-forward.ts). A `stop` is passed on through the control subjects, naming the claim: that node stops the
 * module and gives its id back before it answers (see module-stop.ts). A `cancel` reaches every node anyway. An
 * execution passed on keeps the caller's `executionId` and its timeout (this node's default when the caller gave
 * none). The caller watches the node it reached, which watches the owner in turn. Modules with a spec in the bucket
 * never take that path.
 *
 * `module list` lists the modules bucket: the modules any node can wake, `{ moduleId, spec }`, and the modules
 * that stay on a node, `{ moduleId, node }` (its instance id of the service) with no spec (theirs has no wire
 * form), while that node answers its ping (each node once, see node-pings.ts). A claim of a node gone (it died) is
 * left out, and taken over by the next creation of its id.
 * @module
 */
import type { MsgHdrs } from 'nats';
import { ValidationError } from '../errors.js';
import { assertModuleId } from '../modules/module-spec.js';
import { assertSessionId } from '../variables/names.js';
import { executionReplyKey } from './execution-replies.js';
import { existingSession, moduleOperations, type ModuleServiceDeps } from './module-operations.js';
import type { WireModuleSpec } from './module-wire-spec.js';
import { optionalBoolean } from './request-fields.js';
import { indexAfter, pageRequestOf, type PagedList } from './session-page.js';
import type { ServiceEndpoint } from './service-endpoint.js';
import { MODULE_OPERATIONS } from './operations.js';
import type { TetherSubjects } from './subjects.js';
import type { RequestBody } from './wire.js';

/** One module of a `module list`: its spec, or the node it stays on. */
type ListedEntry =
  { moduleId: string; spec: WireModuleSpec } | { moduleId: string } | { moduleId: string; node: string };

/**
 * `module.list` pages as `sessions.list` does, by id (`after`, `limit`), but answers every module when no `limit` is
 * given (as it did before it paged); `specs: false` leaves the specs out, which a client after ids alone (the remote
 * client's `modules()`) asks for, so that large specs never make its list too large for one reply.
 */
const MODULE_LIST: PagedList = { operation: 'module list', fields: ['specs'], defaultLimit: Infinity };

/** The key under which a node keeps the reply of an execute request (one `prepare` passed), if it named its id. */
function executionKey(subjects: TetherSubjects, subject: string, body: RequestBody): string | undefined {
  const parsed = subjects.parseModuleRequest(subject);
  const { executionId } = body;
  if (parsed?.kind !== 'module' || typeof executionId !== 'string') return undefined;
  return executionReplyKey(parsed.sessionId, parsed.moduleId, executionId);
}

/**
 * The module endpoints, for `startSessionService(..., { endpoints })`.
 * @example
 * const endpoints = moduleEndpoints({ subjects, sessions, host, specs, control, forward });
 * await startSessionService(nc, sessions, { store, endpoints });
 */
export function moduleEndpoints(deps: ModuleServiceDeps): ServiceEndpoint[] {
  const { subjects, specs } = deps;
  const operations = moduleOperations(deps, deps.forward);

  const endpoints: ServiceEndpoint[] = MODULE_OPERATIONS.map((operation) => ({
    name: `module-${operation}`,
    subject: subjects.moduleEndpoint(operation),
    metadata: { operation: `module.${operation}` },
    // Executions are the only long requests: their callers watch the node that took them, and ask it for a reply
    // they lost (see execution-replies.ts).
    announcesAcceptance: operation === 'execute',
    ...(operation === 'execute'
      ? {
          replyKey: (subject: string, body: RequestBody) => executionKey(subjects, subject, body),
          holdWhileWaiting: (key: string) => deps.control.hold(key),
        }
      : {}),
    prepare(subject: string, body: RequestBody, headers: MsgHdrs | undefined) {
      const parsed = subjects.parseModuleRequest(subject);
      if (!parsed || parsed.kind !== 'module')
        throw new ValidationError(`subject '${subject.slice(0, 200)}' names no module operation`);
      assertSessionId(parsed.sessionId);
      assertModuleId(parsed.moduleId);
      return operations[operation](parsed.sessionId, parsed.moduleId, body, headers);
    },
  }));
  endpoints.push({
    name: 'module-list',
    subject: subjects.moduleEndpoint('list'),
    metadata: { operation: 'module.list' },
    prepare(subject, body, headers) {
      const parsed = subjects.parseModuleRequest(subject);
      if (!parsed || parsed.kind !== 'list')
        throw new ValidationError(`subject '${subject.slice(0, 200)}' names no module list`);
      assertSessionId(parsed.sessionId);
      const page = pageRequestOf(body, MODULE_LIST);
      const withSpecs = optionalBoolean(body, 'specs') ?? true;
      return async (): Promise<ListedEntry[]> => {
        const { sessionId } = parsed;
        await existingSession(deps, sessionId, headers);
        const listed = await specs.list(sessionId);
        // Each node named by a claim is asked once, all together (a node gone answers at once, with no responders).
        const nodes = await deps.nodes.ping(listed.flatMap((entry) => (entry.local ? [entry.local.node] : [])));
        const answering = listed.filter(({ local }) => !local || nodes.get(local.node) === 'answered');
        // Paged once the modules gone with their node are left out: a page shorter than its limit is the last.
        const ids = answering.map(({ moduleId }) => moduleId);
        const from = page.after === undefined ? 0 : indexAfter(ids, page.after);
        const shown = answering.slice(from, from + page.limit);
        return shown.map(({ moduleId, spec, local }): ListedEntry => {
          if (local) return { moduleId, node: local.node };
          return withSpecs ? { moduleId, spec: spec! } : { moduleId };
        });
      };
    },
  });
  return endpoints;
}

/**
 * What the node that has a module staying on it serves on the module's forward subjects (see module-forward.ts
 * and `SessionService.serveOn`): the `execute` and `describe` another node passed on, as the module endpoints
 * serve them, but never passed on again.
 */
export function forwardedModuleEndpoint(deps: ModuleServiceDeps): ServiceEndpoint {
  const { subjects } = deps;
  const operations = moduleOperations(deps, undefined);
  return {
    name: 'module-forwarded',
    subject: subjects.allModuleForwards(),
    // The relaying node watches this one while an execution runs here.
    announcesAcceptance: true,
    relayedHere: true,
    countedIn(subject) {
      const operation = subjects.parseModuleForward(subject)?.operation;
      return operation === undefined ? undefined : subjects.moduleEndpoint(operation);
    },
    holdWhileWaiting: (key) => deps.control.hold(key),
    // And asks this one for an execution's reply it lost while its own connection was down (see module-forward.ts).
    replyKey(subject, body) {
      const parsed = subjects.parseModuleForward(subject);
      const { executionId } = body;
      if (parsed?.operation !== 'execute' || typeof executionId !== 'string') return undefined;
      return executionReplyKey(parsed.sessionId, parsed.moduleId, executionId);
    },
    prepare(subject, body, headers) {
      const parsed = subjects.parseModuleForward(subject);
      if (!parsed) throw new ValidationError(`subject '${subject.slice(0, 200)}' names no passed-on module request`);
      assertSessionId(parsed.sessionId);
      assertModuleId(parsed.moduleId);
      return operations[parsed.operation](parsed.sessionId, parsed.moduleId, body, headers);
    },
  };
}
