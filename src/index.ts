/**
 * Tether: an Elixir-style actor runtime for TypeScript on XState v5 and NATS, with typed, constrained session
 * variables that LLM modules bind to. This file is the whole public surface.
 * @module
 */
export { Runtime, type RuntimeOptions } from './node/runtime.js';
export { Session, type SetVariableOptions, type SetVariablesOptions, type ImportVariablesOptions } from './session/session.js';
export type { SessionContext, VariableChange, VariableListener, Unwatch, WatchVariablesOptions, VariableSnapshot, VersionedValue } from './session/session-context.js';
export type { SetOutcome } from './session/write-plan.js';
export type { VariableHistoryEntry } from './session/variable-history.js';
export type { ExportedVariable } from './variables/record.js';
export * from './variables/types.js';
export { createMemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { Store, StoreEntry, StoreChange, StoreWrite, StoreWatch, WatchOptions } from './store/store.js';
export { ProcessRuntime, type ProcessRuntimeOptions, type SpawnOptions, type CallOptions, type Target } from './runtime/process-runtime.js';
export type { ProcessRef } from './runtime/process.js';
export type { ExitReason } from './runtime/exit-reason.js';
export type { DownNotice, MonitorTarget, Demonitor } from './runtime/monitors.js';
export { REPLY, okReply, errorReply, type ReplyEvent, type ReplyResult, type CallEnvelope } from '../machines/protocol.js';
export { sessionMachine } from '../machines/session.machine.js';
export * from './errors.js';
