/**
 * TEST ONLY: a hook that kills the process at a named point, so end-to-end tests can prove that
 * a crash anywhere loses and duplicates nothing. Set `GITLAB_PG_TEST_CRASH_AT=<point>[:<n>]` to
 * exit with code 137 (as `kill -9`) the n-th time (default first) the run reaches `<point>`.
 *
 * Points, in run order: `synced` (the destination read), `page` (after each fetched page is
 * written: during fetch), `extracted` (extract done, package not yet committed),
 * `extract_committed` (package committed, local state not yet saved), `normalize_file` (before
 * each extracted file is normalized), `normalized`, `migrated`, `copied` (after the COPY of a
 * table chain, inside the load transaction), `merged`, `completed` (`_dlt_loads` row written,
 * before COMMIT), `committed` (after COMMIT, before the package moves to `loaded/`); and
 * `pglite_created` (a new embedded database written, its `.creating` marker not yet removed).
 *
 * @module
 */

/** The env var naming the crash point. */
export const CRASH_ENV = "GITLAB_PG_TEST_CRASH_AT";

/**
 * A hook that calls `exit(137)` at the point named by `spec` (`point` or `point:n`); a no-op
 * when `spec` is undefined or empty.
 *
 * @example
 * ```ts
 * const hook = crashHook(Deno.env.get(CRASH_ENV));
 * await hook("copied"); // exits when GITLAB_PG_TEST_CRASH_AT=copied
 * ```
 */
export function crashHook(
  spec: string | undefined,
  options: { exit?: (code: number) => void } = {},
): (point: string) => void {
  if (!spec) return () => {};
  const [name, nth] = spec.split(":");
  const target = nth ? Number(nth) : 1;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  let count = 0;
  return (point: string) => {
    if (point === name && ++count === target) exit(137);
  };
}
