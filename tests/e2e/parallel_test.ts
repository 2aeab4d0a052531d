/**
 * End to end: `normalize.workers` — a package big enough to be normalized by two threads
 * (root tables in parallel, in a worker that `main.ts` starts from its own module graph, as the
 * binary does), or by a worker while it is extracted, loads the same tables, columns in the
 * same order, as a run with one thread.
 */

import assert from "node:assert/strict";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

/** Every table's columns in order, and its rows without the random `_dlt_*` ids. */
async function snapshot(dataset: string) {
  const columns = await pgQuery<{ t: string; c: string }>(
    `SELECT table_name AS t, string_agg(column_name, ',' ORDER BY ordinal_position) AS c
     FROM information_schema.columns WHERE table_schema = $1 AND table_name NOT LIKE '_dlt%'
     GROUP BY table_name ORDER BY table_name`,
    [dataset],
  );
  const rows: Record<string, string[]> = {};
  for (const { t } of columns) {
    const r = await pgQuery<{ r: string }>(
      `SELECT (to_jsonb(x) - '_dlt_id' - '_dlt_load_id' - '_dlt_parent_id' - '_dlt_root_id')::text
       AS r FROM "${dataset}"."${t}" AS x ORDER BY 1`,
    );
    rows[t] = r.map((x) => x.r);
  }
  return { columns, rows };
}

Deno.test({
  name:
    "run with normalize.workers = 2, in parallel or following the extract: the tables of a one-thread run",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: {
        groups: 1,
        subgroupsPerGroup: 0,
        projectsPerGroup: 2,
        issuesPerProject: 1500,
        mergeRequestsPerProject: 1500,
      },
    });
    const cwd = await Deno.makeTempDir({ prefix: "gitlab-pg-parallel-" });
    const datasets = [uniqueDataset("par1"), uniqueDataset("par2"), uniqueDataset("par3")];
    try {
      const results = [];
      // one thread; two after the extract (following off); a worker following the extract
      const runs = [["1", ""], ["2", "999999999999"], ["2", "0"]];
      for (const [i, [workers, followFrom]] of runs.entries()) {
        const r = await runCli(
          ["run", "--resources", "issues,merge_requests", "--progress", "none"],
          {
            cwd,
            env: {
              SOURCES__GITLAB__BASE_URL: gitlab.url,
              SOURCES__GITLAB__API_KEY: "glpat-test",
              SOURCES__GITLAB__GROUPS: '["acme"]',
              DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
              DATASET_NAME: datasets[i],
              PIPELINE_NAME: `parallel_${i}`,
              PIPELINES_DIR: `${cwd}/pipelines`,
              NORMALIZE__WORKERS: workers,
              RUNTIME__LOG_LEVEL: "INFO",
              ...(followFrom ? { GITLAB_PG_TEST_FOLLOW_MIN_BYTES: followFrom } : {}),
            },
          },
        );
        assert.equal(r.code, 0, r.stderr);
        results.push(r);
      }
      assert.doesNotMatch(results[0].stderr, /in \d+ threads/);
      assert.match(results[1].stderr, /root tables in 2 threads/);
      assert.doesNotMatch(results[1].stderr, /while it was extracted/);
      assert.match(results[2].stderr, /Normalized package [\d.]+ while it was extracted/);
      const [one, two, three] = [
        await snapshot(datasets[0]),
        await snapshot(datasets[1]),
        await snapshot(datasets[2]),
      ];
      assert.ok(one.rows.issues.length === 3000 && one.rows.merge_requests.length === 3000);
      assert.ok(one.columns.length > 4, JSON.stringify(one.columns.map((c) => c.t)));
      assert.deepEqual(two.columns, one.columns);
      assert.deepEqual(two.rows, one.rows);
      assert.deepEqual(three.columns, one.columns);
      assert.deepEqual(three.rows, one.rows);
    } finally {
      for (const d of datasets) await dropDataset(d);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
