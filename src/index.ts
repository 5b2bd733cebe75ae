/**
 * Tether: an Elixir-style actor runtime for TypeScript on XState v5 and NATS, with typed, constrained session
 * variables that LLM modules bind to. This file is the whole public surface.
 * @module
 */

// A node: processes, sessions, the store router.
export { Runtime } from './node/runtime.js';
export type { RuntimeOptions } from './node/runtime-options.js';

// Sessions and their variables.
export {
  Session,
  type SessionOptions,
  type SetVariableOptions,
  type SetVariablesOptions,
  type UpdateVariableOptions,
  type ImportVariablesOptions,
  type VariableHistoryOptions,
} from './session/session.js';
export type {
  SessionContext,
  Unwatch,
  VariableChange,
  VariableListener,
  VariableSnapshot,
  VersionedValue,
  WatchVariablesOptions,
} from './session/session-context.js';
export type { SessionApi } from './session/session-api.js';
export type { SetOutcome } from './session/write-plan.js';
export type { VariableHistoryEntry } from './session/variable-history.js';
export type { ExportedVariable } from './variables/record.js';
export * from './variables/index.js';

// Stores.
export { createMemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type {
  CommitMark,
  DeleteOptions,
  Store,
  StoreChange,
  StoreEntry,
  StoreWatch,
  StoreWrite,
  WatchOptions,
} from './store/store.js';

// Processes: spawn, call/cast, monitors, links, supervisors.
export * from './runtime/index.js';
export {
  REPLY,
  errorReply,
  okReply,
  reply,
  replyError,
  type CallEnvelope,
  type ReplyEvent,
  type ReplyResult,
} from '../machines/protocol.js';
export {
  sessionMachine,
  type SessionMachineContext,
  type SessionMachineEvent,
  type SessionEmittedEvent,
} from '../machines/session.machine.js';
export {
  moduleMachine,
  type ExecutionResult,
  type ExecutionUsage,
  type ModuleDescription,
  type ModuleEmittedEvent,
  type ModuleMachineContext,
  type ModuleMachineEvent,
  type SyncOutcome,
} from '../machines/module.machine.js';

// Across processes and machines: a node on NATS (`Runtime.start({ nats })`) and the remote client.
export type { NatsNodeOptions } from './nats/nats-node.js';
export type { ReconnectPolicy } from './nats/connection-options.js';
export type { NatsTlsFiles } from './nats/tls-files.js';
export { connect, type ConnectOptions, type RemoteSessionOptions, type TetherClient } from './nats/remote-client.js';
export { RemoteSession } from './nats/remote-session.js';
export type { ListSessionsOptions, SessionPage } from './nats/session-page.js';
export { RemoteModuleHandle, type RemoteModuleEventListener } from './nats/remote-module.js';
export type { RemoteExecuteOptions } from './nats/remote-execution.js';
export { MODULE_EVENT_TYPES, type ModuleEvent, type ModuleStateEvent } from './nats/module-events.js';
export { parseWireSpec, toWireSpec, type WireModuleSpec } from './nats/module-wire-spec.js';
export { MODULE_OPERATIONS, type ModuleOperation } from './nats/operations.js';
export {
  subscribeEvents,
  type EventSubscription,
  type FeedEvent,
  type SubscribeEventsOptions,
} from './nats/event-subscriber.js';
export type { InspectedEvent, SessionEndEvent, TetherEvent, TetherMessage } from './nats/tether-event.js';
export type { VariableEvent } from './nats/variable-events.js';
export type { InspectedSnapshot } from './nats/inspection.js';
export { createSubjects, type TetherSubjects } from './nats/subjects.js';
export { VARIABLE_OPERATIONS, type VariableOperation } from './nats/operations.js';

// Variable-aware LLM modules on Ax.
export * from './modules/index.js';

export * from './errors.js';
