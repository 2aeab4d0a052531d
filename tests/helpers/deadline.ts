/**
 * A test's guard against hanging: `promise`, or a rejection after `ms` (its timer cleared either
 * way), so a regression fails the test instead of stopping the suite.
 *
 * @module
 */

/**
 * Settles like `promise`, or rejects with "`what` did not settle within `ms` ms".
 *
 * @example
 * ```ts
 * await within(fetch("http://127.0.0.1:1/"), 5_000, "the request").catch(() => {});
 * ```
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
