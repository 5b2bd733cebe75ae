/**
 * What each module endpoint does (see module-service.ts for the subjects and what they promise): check the request's
 * fields and the module's session, then create, execute, describe, cancel or stop the module on this node, or pass an
 * `execute` or `describe` on to the node a module stays on. The same operations serve the module endpoints and the
 * forward subjects, where a request passed on already is never passed on again.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { MsgHdrs } from 'nats';
import { ExecutionAbortedError, ModuleNotFoundError, NodeStoppingError, UnknownModuleError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import type { Session } from '../session/session.js';
import type { ModuleControl } from './module-control.js';
import { FORWARD_GRACE_MS, type ModuleForward } from './module-forward.js';
import type { ModuleHost } from './module-host.js';
import type { ModuleSpecs } from './module-specs.js';
import { stopModule } from './module-stop.js';
import { parseWireSpec, wireUnknownModule } from './module-wire-spec.js';
import type { NodePings } from './node-pings.js';
import { executionReplyKey } from './execution-replies.js';
import { withOutputDates } from './output-dates.js';
import {
  assertExecutionId,
  assertFields,
  optionalString,
  optionalTimerMs,
  requireObject,
  requirePresent,
  requireString,
} from './request-fields.js';
import type { SessionProvider } from './session-provider.js';
import { lifeOf, sessionNotThere, sessionOfLife } from './session-of-life.js';
import type { ModuleOperation } from './operations.js';
import type { RequestEnded } from './request-ending.js';
import { DEADLINE_HEADER } from './request-deadline.js';
import type { SearchedExecutions } from './searched-executions.js';
import type { TetherSubjects } from './subjects.js';
import type { RequestBody } from './wire.js';

/** What the module endpoints are built on. */
export interface ModuleServiceDeps {
  readonly subjects: TetherSubjects;
  /** Sessions by id; module requests never create one (`session_not_found`). */
  readonly sessions: SessionProvider;
  readonly host: ModuleHost;
  readonly specs: ModuleSpecs;
  readonly control: ModuleControl;
  /** Passes requests for a module that stays on another node on to that node. */
  readonly forward: ModuleForward;
  /** Whether the nodes that claims name are alive (a `module list` lists the claims of those that are). */
  readonly nodes: NodePings;
  /** The executions censuses found no record of here: one taken late is refused (see searched-executions.ts). */
  readonly searched: SearchedExecutions;
}

/**
 * Checks one module request and returns the work that answers it; `ended` ends once a stopping node answered the
 * request already (see `ServiceEndpoint.prepare`).
 */
export type Work = (
  sessionId: string,
  moduleId: string,
  body: RequestBody,
  headers: MsgHdrs | undefined,
) => (ended: RequestEnded) => Promise<unknown>;

/**
 * A module request's session: module requests never create one (`session_not_found`). A request bound to a life
 * (`Tether-Incarnation`) reaches only that life, as the session requests do: a module handle of an ended life
 * neither runs nor reads the modules of the id's next life.
 */
export function existingSession(
  deps: ModuleServiceDeps,
  sessionId: string,
  headers: MsgHdrs | undefined,
): Promise<Session> {
  return sessionOfLife(deps.sessions, sessionId, lifeOf(headers), { create: false });
}

/** Calls `cancel` with a reason to abort an execution with once the request is ended (at once if it is). */
function onEnded(ended: RequestEnded, cancel: (reason: string) => void): void {
  ended.onEnd((reason) => {
    const why = reason instanceof NodeStoppingError ? reason.details.reason : undefined;
    cancel(typeof why === 'string' ? `its node is stopping (${why})` : 'its node is stopping');
  });
}

/**
 * The module operations. With `forward`, an `execute` or `describe` for a module this node cannot wake is passed on
 * to the node that has it; without it (a request passed on already), that is `module_not_found`.
 */
export function moduleOperations(
  deps: ModuleServiceDeps,
  forward: ModuleForward | undefined,
): Readonly<Record<ModuleOperation, Work>> {
  const { host, specs, control, searched } = deps;
  const session = (sessionId: string, headers: MsgHdrs | undefined): Promise<Session> =>
    existingSession(deps, sessionId, headers);
  const wake = async (sessionId: string, moduleId: string, headers: MsgHdrs | undefined) =>
    host.wake(await session(sessionId, headers), moduleId, () => specs.load(sessionId, moduleId));
  /** What `work` gives, or `undefined` when the module has no spec here and `forward` may pass the request on. */
  const orNone = async <T>(work: Promise<T>): Promise<T | undefined> => {
    try {
      return await work;
    } catch (error) {
      if (forward && error instanceof ModuleNotFoundError) return undefined;
      throw error;
    }
  };
  /** {@link wake}, or `undefined` when the module has no spec to wake it from and `forward` may pass it on. */
  const wakeOrNone = (sessionId: string, moduleId: string, headers: MsgHdrs | undefined) =>
    orNone(wake(sessionId, moduleId, headers));

  return {
    create(sessionId, moduleId, body, headers) {
      assertFields(body, ['spec'], 'module create');
      const spec = parseWireSpec(requirePresent(body, 'spec'));
      const created = async () => {
        let target: Session;
        try {
          target = await session(sessionId, headers);
        } catch (error) {
          // A create naming no life, on a session that is not there, has its spec judged as a new, empty session
          // would judge it before that is said: `session_not_found` then says this node would create the module.
          if (sessionNotThere(error, lifeOf(headers))) await host.judgeCreate(sessionId, moduleId, spec);
          throw error;
        }
        return (await target.module(moduleId, spec)).describe();
      };
      // An unknown type lists the types this request could have named, not those only an embedded create takes.
      return () =>
        created().catch((error: unknown) => {
          throw error instanceof UnknownModuleError ? wireUnknownModule(error) : error;
        });
    },

    execute(sessionId, moduleId, body, headers) {
      assertFields(body, ['inputs', 'executionId', 'timeoutMs'], 'module execute');
      const inputs = requireObject(body, 'inputs');
      const executionId = assertExecutionId(optionalString(body, 'executionId') ?? randomUUID());
      const timeoutMs = optionalTimerMs(body, 'timeoutMs');
      return async (ended) => {
        // Taken late, after its caller searched for it (this node stalled): not run here, nor passed on to the node
        // that has the module, which would take it as just sent. One passed on to this node is not judged so: the
        // node that passed it on, the one its caller searched, judged it already.
        const searchedFor =
          forward && searched.refusal(sessionId, moduleId, executionId, headers?.get(DEADLINE_HEADER));
        if (searchedFor) throw searchedFor;
        // On its way to a mailbox, through the waits below: a cancel meanwhile is answered here (see `hold`).
        const release = control.hold(executionReplyKey(sessionId, moduleId, executionId));
        let passOn: boolean;
        try {
          // A running module is not woken, so its session is not looked up on that path: a request bound to a life
          // has it checked first (another life's module of the same id must not run for it).
          if (lifeOf(headers) !== undefined) await session(sessionId, headers);
          // Only a module this node cannot run is passed on: the usual path costs nothing more.
          passOn = !host.running(sessionId, moduleId) && !(await wakeOrNone(sessionId, moduleId, headers));
        } finally {
          release();
        }
        if (passOn) {
          // The wire takes whole milliseconds up to 2^31-1: a node's default of Infinity goes as the longest this
          // node can wait for it with its grace on top, so that the owner's answer, a timeout too, comes first.
          const longest = MAX_TIMEOUT_MS - FORWARD_GRACE_MS;
          const passed = { inputs, executionId, timeoutMs: timeoutMs ?? Math.min(host.executionTimeoutMs, longest) };
          // Ended here, it is cancelled on the node it was passed on to, as a client's cancel would reach it.
          onEnded(ended, (reason) => void control.cancel(sessionId, moduleId, executionId, reason).catch(() => {}));
          // A cancel heard before it was sent, or while the owner was away and it waits to be sent again, wins.
          const cancelled = () => control.cancelledEarly(sessionId, moduleId, executionId);
          return forward!.execute(sessionId, moduleId, passed, headers, cancelled);
        }
        // Checked right before the execution enters the mailbox (no await in between): a cancel that came first wins.
        if (control.cancelledEarly(sessionId, moduleId, executionId))
          throw new ExecutionAbortedError(moduleId, executionId, {
            details: { reason: 'cancelled before it started', outcome: 'not_applied' },
          });
        const running = host.execute(sessionId, moduleId, inputs, {
          executionId,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        // Ended (its node is stopping), it is cancelled: its LLM call is dropped rather than left to run.
        onEnded(ended, (reason) => void host.cancel(sessionId, moduleId, executionId, reason).catch(() => {}));
        return running.then(withOutputDates);
      };
    },

    describe(sessionId, moduleId, body, headers) {
      assertFields(body, [], 'module describe');
      return async () => {
        // Not woken for it: a node that has no process of the module answers from its spec.
        const load = () => specs.load(sessionId, moduleId);
        const described = await orNone(host.describe(await session(sessionId, headers), moduleId, load));
        return described ?? forward!.describe(sessionId, moduleId, headers);
      };
    },

    cancel(sessionId, moduleId, body, headers) {
      assertFields(body, ['executionId', 'reason'], 'module cancel');
      const executionId = assertExecutionId(requireString(body, 'executionId'));
      const reason = optionalString(body, 'reason');
      return async () => {
        await session(sessionId, headers);
        return { cancelled: await control.cancel(sessionId, moduleId, executionId, reason) };
      };
    },

    stop(sessionId, moduleId, body, headers) {
      assertFields(body, [], 'module stop');
      return async () => {
        await session(sessionId, headers);
        await stopModule(deps, sessionId, moduleId);
        return { stopped: true };
      };
    },
  };
}
