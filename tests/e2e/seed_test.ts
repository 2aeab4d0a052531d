/**
 * End to end: the seed catalog (resources/seed.yaml) against the fake GitLab into Postgres —
 * all 18 tables of dlt-init-openapi's GitLab source, no FILL_ME_IN; a non-admin token gets
 * warnings for the administrator endpoints, not a failed run.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

const SEED = new URL("../../resources/seed.yaml", import.meta.url).pathname;

const SEED_TABLES = [
  "api_entities_appearance",
  "api_entities_application",
  "api_entities_avatar",
  "api_entities_badge",
  "api_entities_basic_badge_details",
  "api_entities_batched_background_migration",
  "api_entities_branch",
  "api_entities_broadcast_message",
  "api_entities_bulk_import",
  "api_entities_bulk_imports",
  "api_entities_ci_variable",
  "api_entities_cluster",
  "api_entities_custom_attribute",
  "api_entities_dictionary_table",
  "api_entities_job",
  "api_entities_metadata",
  "api_entities_metric_image",
  "api_entities_plan_limit",
];

const SIZE = { groups: 1, subgroupsPerGroup: 1, projectsPerGroup: 1, pipelinesPerProject: 1 };

Deno.test({
  name: "run --catalog resources/seed.yaml fills all 18 seed tables with an admin token",
  ignore: pgIgnore,
  async fn() {
    await using gitlab = await startFakeGitlab({ size: SIZE });
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("seed");
    try {
      const env = {
        SOURCES__GITLAB__BASE_URL: gitlab.url,
        SOURCES__GITLAB__API_KEY: "glpat-test",
        SOURCES__GITLAB__PARAMS: JSON.stringify({ alert_iid: 1 }),
        DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
        DATASET_NAME: dataset,
        PIPELINES_DIR: join(cwd, "pipelines"),
      };
      const out = await runCli(["run", "--catalog", SEED, "--json"], { cwd, env });
      assert.equal(out.code, 0, out.stderr);
      assert.ok(!gitlab.requests.some((r) => r.path.includes("FILL_ME_IN")));
      const tables = await pgQuery<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1
         AND table_name LIKE 'api_entities_%' AND position('__' in table_name) = 0 ORDER BY table_name`,
        [dataset],
      );
      assert.deepEqual(tables.map((t) => t.table_name), SEED_TABLES);
      for (const table of SEED_TABLES) {
        const [{ n }] = await pgQuery<{ n: string }>(
          `SELECT count(*)::text AS n FROM "${dataset}"."${table}"`,
        );
        assert.ok(Number(n) > 0, `rows in ${table}`);
      }
      const d = gitlab.data;
      const count = async (table: string) =>
        Number(
          (await pgQuery<{ n: string }>(`SELECT count(*)::text AS n FROM "${dataset}"."${table}"`))[
            0
          ]
            .n,
        );
      assert.equal(await count("api_entities_cluster"), d.instance.clusters.length);
      // One table, two dispositions as in the seed: the single endpoint merges on "key".
      assert.equal(await count("api_entities_ci_variable"), d.instance.ciVariables.length);
      assert.equal(await count("api_entities_metadata"), 2);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "run with the seed catalog and a non-admin token warns about admin endpoints and alert_iid",
  ignore: pgIgnore,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: SIZE,
      tokens: { "glpat-admin": { user: 1, admin: true }, "glpat-dev": { user: 2, admin: false } },
    });
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("seed");
    try {
      const env = {
        SOURCES__GITLAB__BASE_URL: gitlab.url,
        SOURCES__GITLAB__API_KEY: "glpat-dev",
        DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
        DATASET_NAME: dataset,
        PIPELINES_DIR: join(cwd, "pipelines"),
      };
      const out = await runCli(["run", "--catalog", SEED, "--json"], { cwd, env });
      assert.equal(out.code, 0, out.stderr);
      const info = JSON.parse(out.stdout);
      const warnings: string[] = info.warnings;
      assert.ok(
        warnings.some((w) =>
          w.includes('Skipped resource "get_api_v4_admin_clusters": GitLab answered 403 Forbidden')
        ),
        warnings.join("\n"),
      );
      assert.ok(warnings.some((w) => w.includes("[sources.gitlab.params] alert_iid")));
      assert.ok(!gitlab.requests.some((r) => r.path.includes("metric_images")));
      const [{ n }] = await pgQuery<{ n: string }>(
        `SELECT count(*)::text AS n FROM "${dataset}".api_entities_metadata`,
      );
      assert.equal(Number(n), 2);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
