/**
 * The process layer: Elixir-style processes, supervisors and exit reasons on top of XState v5 actors.
 * @module
 */
export { ProcessRuntime } from './process-runtime.js';
export {
  MAX_TIMEOUT_MS,
  type CallOptions,
  type FaultSource,
  type ProcessRuntimeOptions,
  type SpawnOptions,
  type Target,
} from './process-runtime-options.js';
export type { ProcessRef } from './process.js';
export type { Demonitor, DownNotice, MonitorTarget } from './monitors.js';
export type { ExitNotice } from './links.js';
export { crashErrorOf, formatExitReason, isAbnormal, isCrash, isFailure, type ExitReason } from './exit-reason.js';
export { Supervisor, type ChildInfo, type SupervisorOptions, type SupervisorStrategy } from './supervisor.js';
export { DynamicSupervisor, type DynamicChildSpec, type DynamicSupervisorOptions } from './dynamic-supervisor.js';
export { SupervisorBase, type SupervisorBaseOptions } from './supervisor-base.js';
export type { ProcessHost } from './process-host.js';
export type { ChildProcess, ChildSpawn, ChildSpec, ChildStart, RestartType } from './child-spec.js';
export type { RestartIntensityOptions } from './restart-intensity.js';
