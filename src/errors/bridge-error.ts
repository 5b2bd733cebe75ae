/**
 * The base of every Tether error, `BridgeError`, and the two every layer raises: a validation error and an
 * internal one.
 * @module
 */

/** The JSON shape an error takes on the wire and in call replies. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Options shared by every Tether error. */
export interface BridgeErrorOptions {
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

/**
 * The base of every Tether error.
 * @example
 * try { await session.setVariable('t', 9) } catch (e) { if (e instanceof BridgeError) console.log(e.code) }
 */
export class BridgeError extends Error {
  readonly code: string = 'bridge_error';
  /** Structured context; what {@link BridgeError.toJSON} sends as `details`. */
  readonly details: Record<string, unknown>;

  constructor(message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  /** The wire form: `{ code, message, details }`. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A value, a name, an option or a payload that breaks the rules. Nothing was changed. */
export class ValidationError extends BridgeError {
  override readonly code = 'validation_failed';
  /** The variable (or field) the error is about, when there is one. */
  readonly variable: string | undefined;

  constructor(message: string, options: BridgeErrorOptions & { variable?: string } = {}) {
    super(message, {
      ...options,
      details: { ...options.details, ...(options.variable ? { variable: options.variable } : {}) },
    });
    this.variable = options.variable;
  }
}

/** Something failed that is not the caller's fault (a store or provider error); the message names it. */
export class InternalError extends BridgeError {
  override readonly code = 'internal_error';
}
