/**
 * Test access to the real Postgres server on 127.0.0.1:5432. When it does not answer, tests
 * that need it are skipped locally and FAIL under CI (CI=true).
 *
 * @module
 */

import { join } from "node:path";
import postgres from "postgres";

/** Connection string of the test database (env TEST_POSTGRES_URL overrides). */
export const TEST_PG_URL = Deno.env.get("TEST_POSTGRES_URL") ??
  "postgresql://postgres@127.0.0.1:5432/test";

let available: boolean | undefined;

/** Whether the test Postgres answers. Under CI a missing server throws instead. */
export async function postgresAvailable(): Promise<boolean> {
  if (available !== undefined) return available;
  const sql = postgres(TEST_PG_URL, { onnotice: () => {}, connect_timeout: 5, max: 1 });
  try {
    await sql`select 1`;
    available = true;
  } catch (e) {
    available = false;
    if (Deno.env.get("CI") === "true") {
      throw new Error(`Postgres at ${TEST_PG_URL} is required under CI but does not answer`, {
        cause: e,
      });
    }
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
  return available;
}

/** `ignore` value for Deno.test: true when Postgres is missing outside CI. */
export const pgIgnore: boolean = !(await postgresAvailable());

/** A unique dataset name for one test. */
export function uniqueDataset(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs a query on the test database with a short-lived connection. */
export async function pgQuery<T = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const sql = postgres(TEST_PG_URL, { onnotice: () => {}, max: 1 });
  try {
    // deno-lint-ignore no-explicit-any
    return Array.from(await sql.unsafe(text, params as any[])) as T[];
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Drops a dataset, its staging dataset and the tables its loads set aside (`<dataset>_load_…`). */
export async function dropDataset(dataset: string): Promise<void> {
  await pgQuery(`DROP SCHEMA IF EXISTS "${dataset}" CASCADE`);
  await pgQuery(`DROP SCHEMA IF EXISTS "${dataset}_staging" CASCADE`);
  const aside = await pgQuery<{ s: string }>(
    "SELECT nspname AS s FROM pg_namespace WHERE starts_with(nspname, $1)",
    [`${dataset}_load_`],
  );
  for (const { s } of aside) await pgQuery(`DROP SCHEMA "${s}" CASCADE`);
}

/**
 * The environment of a CLI run that loads the given projects of a fake GitLab into `dataset`
 * of the test server (without a dataset: into the embedded PGlite), with its working dirs under
 * `cwd/pipelines`.
 */
export function projectsEnv(
  gitlab: { url: string },
  projects: (number | string)[],
  options: { dataset?: string; cwd: string },
): Record<string, string> {
  return {
    SOURCES__GITLAB__BASE_URL: gitlab.url,
    SOURCES__GITLAB__API_KEY: "glpat-test",
    SOURCES__GITLAB__PROJECTS: JSON.stringify(projects),
    ...(options.dataset === undefined
      ? { DESTINATION_TYPE: "pglite" }
      : { DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL, DATASET_NAME: options.dataset }),
    PIPELINES_DIR: join(options.cwd, "pipelines"),
  };
}
