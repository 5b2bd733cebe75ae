/**
 * A module served by Tether nodes over NATS, with the embedded `ModuleHandle`'s names: `alive`, `execute`,
 * `describe`, `on`, `onState`, `stop`. Any node may serve any request (it wakes the module from its spec in KV when
 * it has no process for it), and the client's highest seen store revision goes with every request, so an execution
 * syncs values at least as new as the client's own writes, whichever node runs it. Its highest seen modules-bucket
 * revision goes too, so a module it saw stopped (or created again) is stopped (or new) on whichever node answers.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, ModuleDescription } from '../../machines/module.machine.js';
import { ExecutionAbortedError, ModuleNotFoundError, SessionError, isSessionGone } from '../errors.js';
import { assertExecuteOptionKeys, assertInputsObject } from '../modules/execute-arguments.js';
import { executionSignal } from '../modules/execution-signal.js';
import { executionTimeoutMs } from '../modules/execution-timeout.js';
import { inputsAsCalled } from '../modules/inputs-as-called.js';
import { assertModuleEventType, assertModuleListener, type ModuleEventType } from '../modules/module-event-type.js';
import { MAX_TIMEOUT_MS } from '../runtime/process-runtime-options.js';
import type { ModuleEvent } from './module-events.js';
import { ModuleInputCheck } from './module-input-check.js';
import { RemoteModuleListeners } from './remote-module-listeners.js';
import { followModuleState } from './module-state-follower.js';
import { ModuleStateReads } from './module-state-reads.js';
import {
  abortReason,
  CANCEL_REPORT,
  cancelReason,
  executionFailure,
  executionWatch,
  replyWaitMs,
  type RemoteExecuteOptions,
} from './remote-execution.js';
import type { RemoteTransport } from './remote-transport.js';
import type { ModuleOperation } from './operations.js';
import type { SessionHandleScope } from './session-handle-scope.js';
import { isExactJson } from './tagged-values.js';
import { decodeExecutionResult, decodeModuleEvent } from './wire.js';
import type { ModuleApi } from '../modules/module-api.js';

/** How long an execution aborted already asks whether its module is there: its caller expects an answer at once. */
const GONE_CHECK_MS = 1_000;

/** A listener of one module event type, as published on the module's events subject. */
export type RemoteModuleEventListener<T extends ModuleEventType> = (event: Extract<ModuleEvent, { type: T }>) => void;

/**
 * A remote module handle; obtained from `session.module(id, spec?)` or `session.modules()` of a `RemoteSession`.
 * @example
 * const qa = await session.module('qa', { type: 'Predict', signature: 'question:string -> answer:string', bindings: { temperature: 'temperature' } });
 * const stop = qa.onState((state) => console.log(state));
 * const { output, provenance } = await qa.execute({ question: 'Why is the sky blue?' });
 */
export class RemoteModuleHandle implements ModuleApi {
  /** The execute subject, built (and its tokens checked) at the first execution rather than at every one. */
  #executeSubject: string | undefined;
  /** Set once this handle's `stop` resolved: see {@link stop}. */
  #stopped = false;
  /** What this handle's stop heard when the module had gone with its session: its calls' error from then on. */
  #sessionGone: SessionError | undefined;
  /** Whether the latest answer to a request of this handle said the module (or its session) is gone. */
  #gone = false;
  /** The event subscriptions of this handle's listeners, ended by its `stop` (and its session handle's). */
  readonly #listeners: RemoteModuleListeners;
  /** The check of inputs that are not exact JSON (see {@link execute}). */
  readonly #inputs: ModuleInputCheck;

  /**
   * Not for direct use: handles come from `RemoteSession.module()` and `RemoteSession.modules()`. `scope`: the
   * session handle's, whose `stop()` ends this handle too, and whose life this handle is bound to. `described`: the
   * module's type and signature from the description the handle was made with, from which it builds the embedded
   * module's check of an execution's inputs at the first input that needs it (see remote-input-check.ts); without
   * it, the module is described then.
   */
  constructor(
    readonly moduleId: string,
    readonly sessionId: string,
    private readonly transport: RemoteTransport,
    private readonly scope: SessionHandleScope,
    described?: Pick<ModuleDescription, 'moduleType' | 'signature'>,
  ) {
    this.#listeners = new RemoteModuleListeners(transport, this, scope);
    this.#inputs = new ModuleInputCheck(moduleId, transport, () => this.describe(), described);
  }

  /**
   * The life of the session the session handle was opened on (`undefined` for one got with `create: false`). Every
   * request of this handle carries it (`Tether-Incarnation`), so once that life ends the handle gets
   * `session_not_found` or `session_expired`, even after the id was opened again: it never runs or describes the
   * next life's module of the same id.
   */
  get incarnation(): string | undefined {
    return this.scope.incarnation;
  }

  /**
   * Whether the module is there, as far as this client knows: nothing is asked (no request is sent), so a module
   * stopped through another handle or client, or gone with its session elsewhere, stays `alive` here until this
   * client hears of it. True while the module hibernates on the nodes (the next request wakes it), as embedded.
   *
   * False for good once this handle's {@link stop} resolved, once its session handle's `stop()` was called, once the
   * client closed (or gave up reconnecting), and, for a handle bound to a life, once this client heard that life end:
   * the session handle's `delete()` resolved, a request of it or of one of its module handles was answered
   * `session_not_found` or `session_expired`, or a listener of this handle stopped on the life's end event. False
   * too while the latest answer to a request of this handle says the module is gone (`module_not_found`; for a handle
   * bound to no life, `session_not_found` and `session_expired` too): a module of the id created again, which its
   * requests reach, makes it true at the next request that succeeds (an error it answers with, a refused input say,
   * leaves it false: few errors prove the module is there). A timeout, a lost node or a dropped connection tell
   * nothing of the module and change nothing.
   */
  get alive(): boolean {
    return (
      !this.#stopped &&
      !this.#gone &&
      !this.scope.done &&
      !this.scope.lifeEnded &&
      !this.transport.connection.isClosed()
    );
  }

  /**
   * Runs one execution on whichever node takes the request; resolves with its output and the provenance
   * `{ variable: version }` of the values it used, frozen throughout as an embedded handle's. The inputs travel as
   * JSON, and the node's checks of the module's signature judge what arrives. Inputs JSON would change or cannot
   * encode are judged first here, sending no execution (see remote-input-check.ts): a module of a built-in type
   * refuses them with the embedded module's own error (a `Date` in a string field, a bigint, a cyclic object, `NaN`
   * or `Infinity` in a number field), and any module refuses what JSON cannot encode (a bigint, a cycle) as a
   * `ValidationError` naming the inputs. Only the fields JSON would change are judged here, each alone: the node judges
   * the rest against the module as it is then (the type its type variable names, say). A handle knows the module's
   * type and signature from the description that `session.module(id, spec?)` got; one from `session.modules()`
   * describes the module at the first such input; what that copy refuses is judged again on a fresh description
   * before it stands (the module may have been created again, with another signature). What
   * passes reaches the node as JSON makes it (a `Date` as its ISO text, which a date field takes as the embedded one
   * takes the `Date`; an object with `toJSON` as what that returns; an `undefined` member not at all). One node runs a
   * module's executions one at a time, in arrival order; executions sent at once may be spread over several nodes and
   * then run side by side.
   *
   * The node that takes the execution says so before it waits for anything (a provider, the mailbox; an execution
   * that needs no wait just replies), and the client pings it every 2 s while it waits: if that node stops
   * answering (its process killed, its machine or network gone), `execute` rejects a few seconds later with
   * `NodeLostError` rather than after `timeoutMs`, and asks the nodes to cancel the execution in case it still
   * runs. Its outcome is then unknown: it may or may not have run, its LLM call included. While this client's own
   * NATS connection is down, the node's silence does not count: the wait goes on, and the reply still comes if the
   * node sends it once the connection is back. A reply the node sent while it was down is lost to NATS, but the node
   * keeps it for a while (the last few thousand, two minutes): once the connection is back, `execute` asks that node
   * and settles with the kept reply as it would have with the lost one, keeps waiting if the execution still runs,
   * or rejects at once with `ExecutionUnknownError` if the node has no record of it.
   * @throws {ValidationError} (`validation_failed`) at once, sending nothing, for inputs that are not an object or
   * that are refused before sending (see above), for an option other than `timeoutMs` and `signal`, for a `signal`
   * that is no `AbortSignal`, and for a `timeoutMs` it refuses ({@link RemoteExecuteOptions.timeoutMs}), as embedded
   * @throws {NodeLostError} (`node_lost`) when the node running the execution stops answering
   * @throws {ExecutionUnknownError} (`execution_unknown`) when this client's connection dropped during the wait and
   * the node that took the execution, asked once it was back, has no record of it (its reply is gone for good)
   * @throws {NatsConnectionError} (`nats_connection`, status `disconnected`) when no reply came within `timeoutMs`
   * and this client's connection dropped during the wait (the node that took it was not known, or did not answer
   * the question; status `closed` when the client closed under it), or when it was down from the call to the end
   * of `timeoutMs` (an execution asked for while it is down is sent once it is back): then nothing was sent, and
   * `details.outcome` is `not_applied`
   * @throws {CallTimeoutError} when no reply came within `timeoutMs` (and a short grace)
   * @throws {ExecutionAbortedError} at once when `signal` fires; for one that fired before the call, once a `describe`
   * (waited for up to a second) did not find the module gone: a module or session gone is said first, as embedded
   * @throws {NoProcError} when no node serves the subject
   * @throws {SessionError} (`session_stopped`) at once, sending nothing, once the session handle was stopped or the
   * client closed (`details.client: 'closed'`)
   * @throws {ModuleNotFoundError} at once, sending nothing, once this handle's {@link stop} resolved
   * @throws {ProviderError} and `provider_unavailable`, `model_answer_invalid`, `tool_failed` as embedded
   */
  async execute(
    given: Readonly<Record<string, unknown>>,
    options: RemoteExecuteOptions = {},
  ): Promise<ExecutionResult> {
    assertInputsObject(this.moduleId, given);
    // Sent as they were now, whatever the caller changes while the handle first awaits (a describe, at worst).
    const inputs = inputsAsCalled(given);
    assertExecuteOptionKeys(this.moduleId, options);
    // Refused before anything else, as the embedded handle refuses it; `Infinity` asks for the wire's longest wait.
    const timeoutMs =
      options.timeoutMs === undefined
        ? undefined
        : Math.min(executionTimeoutMs(this.sessionId, this.moduleId, options.timeoutMs), MAX_TIMEOUT_MS);
    const signal = executionSignal(this.sessionId, this.moduleId, options.signal);
    this.#assertUsable();
    // Refused here as the embedded module refuses them, before JSON changes them (or fails to encode them).
    const sent = isExactJson(inputs) ? inputs : await this.#inputs.sendable(inputs);
    const executionId = randomUUID();
    if (signal?.aborted) {
      // A module gone (stopped through another handle, or with its session) is said first, as embedded.
      await this.#sayIfGone();
      // Inputs the signature refuses are refused next, as embedded, also those a node would have judged.
      const refusal = sent === inputs ? (await this.#inputs.inputCheck())?.(inputs) : undefined;
      if (refusal) throw refusal;
      throw new ExecutionAbortedError(this.moduleId, executionId, {
        cause: signal.reason,
        details: { reason: abortReason(signal) },
      });
    }
    const target = { sessionId: this.sessionId, moduleId: this.moduleId, executionId };
    // Sent only when given: without it the node's own execution timeout applies, as it does embedded.
    const body = timeoutMs === undefined ? { inputs: sent, executionId } : { inputs: sent, executionId, timeoutMs };
    const subject = (this.#executeSubject ??= this.transport.subjects.module(this.sessionId, this.moduleId, 'execute'));
    try {
      const result = await this.#heard(
        this.transport.requestWatchingNode(
          subject,
          body,
          replyWaitMs(timeoutMs),
          executionWatch(target, signal, this.incarnation),
        ),
      );
      return decodeExecutionResult(result as ExecutionResult);
    } catch (error) {
      // Cancelled wherever it still runs when the client gave up (or the node did, or it looks gone).
      const reason = cancelReason(error, signal);
      if (reason !== undefined) this.#cancel(executionId, reason);
      throw executionFailure(error, target);
    }
  }

  /**
   * The module's type, state, queue length and counts, as the process on the answering node has them (for a module
   * that stays on the node that created it, that node's: the others pass the request on).
   */
  async describe(): Promise<ModuleDescription> {
    return (await this.#call('describe', {})) as ModuleDescription;
  }

  /**
   * Calls `listener` for every event of `type` any node running this module publishes, frozen as an embedded handle's;
   * returns the unsubscribe function, subscribed before any later request of this client (it sees their events).
   *
   * A handle bound to a life hears that life's events only, and its listeners stop when that life ends (the session
   * deleted or expired): the client's `onError` is told, with the `SessionError` its requests get, as a watch's is
   * (not of a delete of this client's own).
   * So a listener never hears the module of the same id in the session's next life. A listener added after that life
   * ended (its end event gone by) is stopped, and `onError` told, once a first read (a `describe`) finds it gone.
   */
  on<T extends ModuleEventType>(type: T, listener: RemoteModuleEventListener<T>): () => void {
    assertModuleEventType(type);
    assertModuleListener(listener, 'on');
    // A stopped handle's module is gone (or, its session handle stopped, given up): there is nothing it could hear.
    if (this.#released()) return () => {};
    // Each listener's subscription parses its own copy, whose values are frozen in place (see decodeModuleEvent).
    // What the listener returns goes back: an async one's rejection is reported as its throw is.
    // The end event tells of an end only after the subscription, and not while the connection is down: one read
    // tells of an end before it, and one each time the connection is back, which would otherwise leave the listener
    // silent and its subscriptions held for ever. Whatever else the read says is no listener's business (onState's
    // read is its state; this one is only asked about the life).
    const checkLife = (): void => {
      this.describe().catch((error: unknown) => {
        if (isSessionGone(error)) subscription.ended(error);
      });
    };
    const subscription = this.#listeners.subscribe(
      (event) =>
        event.type === type ? listener(decodeModuleEvent(event) as Extract<ModuleEvent, { type: T }>) : undefined,
      this.incarnation === undefined ? undefined : checkLife,
    );
    if (this.incarnation !== undefined) checkLife();
    return subscription.unsubscribe;
  }

  /**
   * Calls `listener` with the module's current state, then after every change any node reports, with the execution
   * it is syncing or executing (`undefined` while idle), as an embedded handle's listener hears them: never the same
   * state of the same execution twice in a row. The current state is read with `describe`, so it comes once that
   * answers rather than before `onState` returns; the changes published meanwhile are held and told after it, but
   * for those the read already includes (see module-state-follower.ts). With several nodes running the module, their
   * changes interleave: the execution id tells them apart. A module that is gone calls no listener, as an embedded
   * handle of it does not: on a handle whose {@link stop} resolved (or whose session handle was stopped) nothing is
   * subscribed; on one whose read finds it gone (`module_not_found`, stopped through another handle), nothing is told
   * (`alive` turns false) until a module created again under the id changes state, as `on`'s listeners hear that
   * module. Of a handle bound to a life, it stops as {@link on}'s listeners do, and also when that read finds the life
   * gone.
   */
  onState(listener: (state: ModuleDescription['state'], executionId: string | undefined) => void): () => void {
    assertModuleListener(listener, 'onState');
    if (this.#released()) return () => {};
    const follower = followModuleState((state, executionId) =>
      this.#listeners.guard(() => listener(state, executionId)),
    );
    // Read now, and again each time the connection is back (see module-state-reads.ts).
    const subscription = this.#listeners.subscribe(
      (event) => {
        if (event.type === 'module.state') follower.change(event.state, event.executionId);
      },
      () => {
        follower.reread();
        void reads.read();
      },
    );
    const reads = new ModuleStateReads(this, follower, subscription, () => this.#released(), this.transport);
    void reads.read();
    return subscription.unsubscribe;
  }

  /**
   * Removes the module: its spec leaves the modules bucket (no node can wake it again) and every node stops its
   * process; executions queued there are rejected. Stopping a module that is already gone (with its session, deleted or
   * expired, too) does nothing. Once it resolves, this client's requests for the module get `ModuleNotFoundError` from
   * every node, and this handle is done, as an embedded handle of a stopped process is: its listeners hear nothing
   * more, and its calls reject with `ModuleNotFoundError` (or, when the module had gone with its session, the
   * `SessionError` the stop heard) without a request, even once a module of the same id is created again (that one is
   * another module; `session.module(id)` gives a handle of it). Another handle of the module, here or in another
   * client, is not told: its requests reach whatever module has the id when they arrive. Once the session handle was
   * stopped (or the client closed) it rejects with `SessionError` (`session_stopped`) and sends nothing: that handle
   * gave the module up, it did not remove it (a module handle stopped before goes on saying what its stop left, and its
   * stop still does nothing; once the client closed, every call says so). An embedded handle's stop resolves once its
   * runtime stopped, the module having gone with it; a closed client's module still runs on the nodes.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#call('stop', {});
    } catch (error) {
      // Gone already, with its session too (deleted or expired): a stop has nothing left to do, as embedded. Gone
      // with its session, the handle's calls go on saying so, as an embedded handle's do (README: a handle of a module
      // that is gone says why), not that this stop removed the module.
      if (isSessionGone(error)) this.#sessionGone = error;
      else if (!(error instanceof ModuleNotFoundError)) throw error;
    }
    this.#stopped = true;
    this.#listeners.end();
  }

  /**
   * Whether this handle is done: stopped, given up with its session handle, or its client closed (or given up on by
   * NATS, whose closed connection takes no subscription: nats.js would throw its own error at the caller).
   */
  #released(): boolean {
    return this.#stopped || this.scope.done || this.transport.connection.isClosed();
  }

  /**
   * A call on a handle whose session handle was stopped (or whose client closed) rejects as one on that handle does;
   * on a stopped handle, as a request for a module that is gone would, and as an embedded handle of a stopped module
   * does (the same error, nothing added).
   */
  #assertUsable(): void {
    this.scope.assertClientOpen();
    // Stopped, this handle was before its session handle (whose stop refuses this one's from then on): what ended it
    // first is what it says, as an embedded handle of a module stopped before its session handle says so after.
    const gone = this.#sessionGone;
    if (gone) throw new SessionError(gone.code, gone.sessionId, { details: gone.details });
    if (this.#stopped) throw new ModuleNotFoundError(this.sessionId, this.moduleId);
    this.scope.assertOpen();
  }

  async #call(operation: ModuleOperation, body: object, timeoutMs?: number): Promise<unknown> {
    this.#assertUsable();
    return this.#request(operation, body, timeoutMs);
  }

  /**
   * Rejects with the error a `describe` gets when the module (or its session's life) is gone, as the embedded handle
   * finds it gone before it looks at a signal; any other failure (no answer in time, no connection) leaves the abort.
   */
  async #sayIfGone(): Promise<void> {
    try {
      await this.#request('describe', {}, GONE_CHECK_MS);
    } catch (error) {
      if (error instanceof ModuleNotFoundError || isSessionGone(error)) throw error;
    }
  }

  #request(operation: ModuleOperation, body: object, timeoutMs?: number): Promise<unknown> {
    const subject = this.transport.subjects.module(this.sessionId, this.moduleId, operation);
    // A node answers a cancel without looking for the module: its success says nothing of whether the module is there.
    const found = operation !== 'cancel';
    return this.#heard(this.transport.moduleRequest(subject, body, timeoutMs, this.incarnation), found);
  }

  /**
   * `request`'s outcome, taken as the latest word on whether the module is there (see {@link alive}): its failure
   * always, its success when the request `found` the module (its answer came from the module).
   */
  // Not async: one reaction on the request rather than a function's own promise (an execution's hot path).
  #heard<T>(request: Promise<T>, found = true): Promise<T> {
    return request.then(
      (result) => {
        if (found) this.#gone = false;
        return result;
      },
      (error: unknown) => {
        if (error instanceof ModuleNotFoundError || isSessionGone(error)) this.#gone = true;
        this.scope.heard(error);
        throw error;
      },
    );
  }

  #cancel(executionId: string, reason: string): void {
    // The module's stop ended every execution of it there was to cancel.
    if (this.#stopped) return;
    // Kept: a client closed right after the failed execute waits for the cancel to get out (see TetherClient.close).
    // Sent also once the session handle was stopped: the execution went out before, and may still run.
    this.transport.keep(
      this.#request('cancel', { executionId, reason }).catch((error: unknown) =>
        this.transport.report(error, `${CANCEL_REPORT} ${executionId}`),
      ),
    );
  }
}
