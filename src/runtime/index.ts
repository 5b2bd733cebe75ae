/**
 * The process layer: Elixir-style processes, supervisors and exit reasons on top of XState v5 actors.
 * @module
 */
export { ProcessRuntime, type CallOptions, type ProcessRuntimeOptions, type SpawnOptions, type Target } from './process-runtime.js';
export type { ProcessRef } from './process.js';
export type { Demonitor, DownNotice, MonitorTarget } from './monitors.js';
export { crashErrorOf, formatExitReason, isAbnormal, isCrash, isFailure, type ExitReason } from './exit-reason.js';
