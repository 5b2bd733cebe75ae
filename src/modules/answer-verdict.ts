/**
 * The base of the errors a `fetch` wrapper of a language model reads from the provider's answer itself (a content
 * filter's stop, a finish reason saying the answer is not whole): the answer's verdict, not a failure to deliver it.
 * Ax takes whatever its `fetch` throws, or a body it reads fails with, for a failure of the network, and sends the
 * request again (`maxRetries`); the same prompt would get the same verdict. So the chat wrapper of content-filter.ts
 * hands such an error on as it is, which Ax then gives up on at once.
 * @module
 */

/** An answer's verdict, read from it by a `fetch` wrapper (see the module comment). */
export class AnswerVerdictError extends Error {}
