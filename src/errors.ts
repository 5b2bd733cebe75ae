/**
 * Every error Tether raises. Each class carries a stable `code` that also travels over NATS, readonly context
 * fields, the ids involved in its message, and the original `cause` when it wraps a library error.
 * @module
 */

export * from './errors/bridge-error.js';
export * from './errors/session-errors.js';
export * from './errors/module-errors.js';
export * from './errors/process-errors.js';
export * from './errors/store-errors.js';
export * from './errors/node-errors.js';
export * from './errors/llm-errors.js';

// The wire form lives apart (it names every class); re-exported so `errors.js` stays the one import.
export { ERROR_CODES, errorFromJSON, errorToJSON, isErrorCode, type ErrorCode } from './error-json.js';
