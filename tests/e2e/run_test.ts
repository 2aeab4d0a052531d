/**
 * End to end: `main.ts run` as a subprocess, from another working directory, against the fake
 * GitLab on loopback, into the real Postgres server and into PGlite.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { PGlite } from "@electric-sql/pglite";
import { type FakeGitlab, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { decompressState } from "../../lib/pipeline/state.ts";
import { runCli } from "../helpers/cli.ts";
import { dropDataset, pgIgnore, pgQuery, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";

type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/** Expected row counts per table for the scope: group 0 (with subgroups) + one other project. */
function expectedCounts(gitlab: FakeGitlab, projectIds: Set<number>): Record<string, number> {
  const d = gitlab.data;
  const inScope = <T>(m: Map<number, T[]>) =>
    [...m.entries()].filter(([pid]) => projectIds.has(pid)).flatMap(([, v]) => v);
  const issues = inScope(d.issues);
  const mrs = inScope(d.mergeRequests);
  const pipelines = inScope(d.pipelines);
  const len = (v: unknown) => Array.isArray(v) ? v.length : 0;
  const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
  return {
    projects: projectIds.size,
    issues: issues.length,
    issues__assignees: sum(issues, (i) => len(i.assignees)),
    issues__labels: sum(issues, (i) => len(i.labels)),
    issue_notes: sum(issues, (i) => (d.issueNotes.get(i.id) ?? []).length),
    merge_requests: mrs.length,
    merge_requests__reviewers: sum(mrs, (m) => len(m.reviewers)),
    pipelines: pipelines.length,
    jobs: sum(pipelines, (p) => (d.jobs.get(p.id) ?? []).length),
  };
}

function scopeOf(gitlab: FakeGitlab): { group: string; project: string; ids: Set<number> } {
  const d = gitlab.data;
  const top = d.groups.filter((g) => g.parent_id === null);
  const group = top[0].full_path;
  const other = d.projects.find((p) => !p.namespace.full_path.startsWith(group))!;
  const ids = new Set(
    d.projects.filter((p) =>
      p.namespace.full_path === group || p.namespace.full_path.startsWith(`${group}/`)
    ).map((p) => p.id),
  );
  ids.add(other.id);
  return { group, project: other.path_with_namespace, ids };
}

async function startGitlab(): Promise<FakeGitlab> {
  return await startFakeGitlab({
    size: { groups: 2, subgroupsPerGroup: 1, projectsPerGroup: 2, issuesPerProject: 4 },
    // one project with more issues than one page of 100: pagination across pages
    sizeOverrides: { 1: { issuesPerProject: 130 } },
  });
}

async function assertLoaded(
  query: Query,
  dataset: string,
  expected: Record<string, number>,
  loads: number,
): Promise<void> {
  for (const [table, n] of Object.entries(expected)) {
    const rows = await query<{ n: string | number }>(
      `SELECT count(*)::text AS n FROM "${dataset}"."${table}"`,
    );
    assert.equal(Number(rows[0].n), n, `rows in ${table}`);
  }
  // every child row points at an existing parent row
  const orphans = await query<{ n: string }>(
    `SELECT count(*)::text AS n FROM "${dataset}".issues__labels l
     LEFT JOIN "${dataset}".issues i ON i._dlt_id = l._dlt_parent_id WHERE i._dlt_id IS NULL`,
  );
  assert.equal(Number(orphans[0].n), 0);
  const cols = await query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = $1`,
    [dataset],
  );
  const typeOf = (t: string, c: string) =>
    cols.find((x) => x.table_name === t && x.column_name === c)?.data_type;
  assert.equal(typeOf("issues", "id"), "bigint");
  assert.equal(typeOf("issues", "created_at"), "timestamp with time zone");
  assert.equal(typeOf("issues", "author__username"), "character varying");
  assert.equal(typeOf("issues", "_dlt_load_id"), "character varying");
  assert.equal(typeOf("issues__labels", "value"), "character varying");
  assert.equal(typeOf("issues__labels", "_dlt_root_id"), "character varying");
  assert.equal(typeOf("issues__labels", "_dlt_list_idx"), "bigint");
  assert.equal(typeOf("jobs", "_pipelines_project_id"), "bigint");
  assert.equal(typeOf("_dlt_loads", "load_id"), "character varying");
  assert.equal(typeOf("_dlt_loads", "inserted_at"), "timestamp with time zone");
  assert.equal(typeOf("_dlt_pipeline_state", "state"), "character varying");

  const loadRows = await query<{ load_id: string; status: string | number; schema_name: string }>(
    `SELECT load_id, status, schema_name FROM "${dataset}"._dlt_loads ORDER BY load_id`,
  );
  assert.equal(loadRows.length, loads);
  for (const l of loadRows) {
    assert.equal(Number(l.status), 0);
    assert.equal(l.schema_name, "gitlab");
  }
  // every data row belongs to a completed load
  const stray = await query<{ n: string }>(
    `SELECT count(*)::text AS n FROM "${dataset}".issues
     WHERE _dlt_load_id NOT IN (SELECT load_id FROM "${dataset}"._dlt_loads)`,
  );
  assert.equal(Number(stray[0].n), 0);
  const versions = await query<{ version_hash: string; schema: string; version: number }>(
    `SELECT version_hash, schema, version FROM "${dataset}"._dlt_version ORDER BY version`,
  );
  assert.ok(versions.length >= 1);
  // as dlt: a new schema is version 1, the tables declared by extract make it 2, the data's
  // columns found by normalize 3 (the first stored version, with both earlier hashes)
  const first = JSON.parse(versions[0].schema);
  assert.equal(Number(versions[0].version), 3);
  assert.equal(first.previous_hashes.length, 2);
  const last = JSON.parse(versions.at(-1)!.schema);
  assert.equal(last.name, "gitlab");
  assert.ok(last.tables.issues);
  const states = await query<{ state: string; pipeline_name: string }>(
    `SELECT state, pipeline_name FROM "${dataset}"._dlt_pipeline_state ORDER BY created_at`,
  );
  assert.ok(states.length >= 1);
  const state = decompressState(states.at(-1)!.state);
  assert.equal(state.pipeline_name, "gitlab_pipeline");
  assert.equal(state.dataset_name, dataset);
  assert.equal(state.default_schema_name, "gitlab");
}

async function assertExportedSchema(cwd: string): Promise<void> {
  const text = await Deno.readTextFile(join(cwd, "schemas/export/gitlab.schema.yaml"));
  const doc = parseYaml(text);
  assert.equal(doc.name, "gitlab");
  assert.equal(doc.engine_version, 11);
  assert.match(doc.version_hash, /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(doc.tables.issues.write_disposition, "merge");
  assert.equal(doc.tables.issues.columns.id.primary_key, true);
  // dlt's hint on the incremental cursor's column
  assert.equal(doc.tables.issues.columns.updated_at.incremental, true);
  assert.equal(doc.tables.issues.columns.created_at.incremental, undefined);
  assert.equal(doc.tables.issues__labels.parent, "issues");
  assert.equal(doc.tables._dlt_loads.write_disposition, "skip");
  assert.equal(doc.tables.issues.name, undefined, "names are removed in the export");
  // the source's max_table_nesting first, then the merge tables' propagation, as dlt's source
  // sets the one before its tables add the other
  assert.deepEqual(Object.keys(doc.normalizers.json.config), ["max_nesting", "propagation"]);
  assert.equal(doc.normalizers.json.config.max_nesting, 2);
}

Deno.test({
  name: "run loads every resource of the scope into Postgres, and a rerun merges",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startGitlab();
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("e2e");
    const scope = scopeOf(gitlab);
    const env = {
      SOURCES__GITLAB__BASE_URL: gitlab.url,
      SOURCES__GITLAB__API_KEY: "glpat-test",
      SOURCES__GITLAB__GROUPS: JSON.stringify([scope.group]),
      SOURCES__GITLAB__PROJECTS: JSON.stringify([scope.project]),
      DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
      DATASET_NAME: dataset,
      PIPELINES_DIR: join(cwd, "pipelines"),
    };
    try {
      const first = await runCli(["run"], { cwd, env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^Pipeline gitlab_pipeline load step completed in /m);
      assert.match(
        first.stdout,
        new RegExp(
          `^1 load package\\(s\\) were loaded to destination postgres and into dataset ${dataset}$`,
          "m",
        ),
      );
      assert.match(first.stdout, /^Load package \d+\.\d+ is LOADED and contains no failed jobs$/m);
      assert.doesNotMatch(first.stdout + first.stderr, /glpat-test/);
      const expected = expectedCounts(gitlab, scope.ids);
      await assertLoaded(pgQuery, dataset, expected, 1);
      await assertExportedSchema(cwd);
      // the token only ever went to the fake GitLab, in PRIVATE-TOKEN
      assert.ok(gitlab.requests.every((r) => r.headers["private-token"] === "glpat-test"));
      assert.ok(gitlab.requests.every((r) => r.status === 200));

      // a second run over the same data: incremental, nothing changed, nothing written
      const second = await runCli(["run", "--json"], { cwd, env });
      assert.equal(second.code, 0, second.stderr);
      const info = JSON.parse(second.stdout);
      assert.equal(info.dataset_name, dataset);
      assert.equal(info.load_packages.length, 1);
      assert.equal(info.load_packages[0].rows.issues ?? 0, 0);
      await assertLoaded(pgQuery, dataset, expected, 2);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "run loads into the embedded PGlite when no credentials are given",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startGitlab();
    const cwd = await Deno.makeTempDir();
    const scope = scopeOf(gitlab);
    const pipelines = join(cwd, "pipelines");
    try {
      const res = await runCli(["run", "--resources", "issues,issue_notes"], {
        cwd,
        env: {
          SOURCES__GITLAB__BASE_URL: gitlab.url,
          SOURCES__GITLAB__API_KEY: "glpat-test",
          SOURCES__GITLAB__GROUPS: JSON.stringify([scope.group]),
          SOURCES__GITLAB__PROJECTS: JSON.stringify([scope.project]),
          PIPELINES_DIR: pipelines,
        },
      });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /loaded to destination pglite and into dataset gitlab_data/);
      const db = await PGlite.create(join(pipelines, "gitlab_pipeline", "pglite"));
      try {
        const query: Query = async (sql, params) => (await db.query(sql, params)).rows as never;
        const all = expectedCounts(gitlab, scope.ids);
        const expected = {
          issues: all.issues,
          issues__assignees: all.issues__assignees,
          issues__labels: all.issues__labels,
          issue_notes: all.issue_notes,
        };
        await assertLoadedSubset(query, "gitlab_data", expected);
        // projects were fetched as the parent of issues but not loaded (not selected)
        const tables = await query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gitlab_data'",
        );
        const names = tables.map((t) => t.table_name);
        assert.ok(!names.includes("projects"), `tables: ${names}`);
        assert.ok(!names.includes("merge_requests"));
      } finally {
        await db.close();
      }
      await assertExportedSchema(cwd);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

async function assertLoadedSubset(
  query: Query,
  dataset: string,
  expected: Record<string, number>,
): Promise<void> {
  for (const [table, n] of Object.entries(expected)) {
    const rows = await query<{ n: string }>(
      `SELECT count(*)::text AS n FROM "${dataset}"."${table}"`,
    );
    assert.equal(Number(rows[0].n), n, `rows in ${table}`);
  }
  const loads = await query(`SELECT * FROM "${dataset}"._dlt_loads`);
  assert.equal(loads.length, 1);
}
