/**
 * What a call came to, in one comparable value: `'resolved'`, or the `code` of the error it rejected with.
 */
export const settledCode = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error as { code?: unknown }).code,
  );
