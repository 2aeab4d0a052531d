/**
 * End to end: crash-safe resume. `main.ts run` is killed (exit 137, as `kill -9`, through the
 * test-only GITLAB_PG_TEST_CRASH_AT hook) at a point in each stage — during fetch, after
 * extract, between committing the package and saving the local state, during and after normalize, during
 * the COPY, before and after COMMIT — and rerun. The tables must then equal, row for row, those
 * of an uninterrupted run, and the stored cursors must equal its cursors. Every other crashed
 * run normalizes while it extracts (a worker following the package), the others after.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { decompressState } from "../../lib/pipeline/state.ts";
import { runCli } from "../helpers/cli.ts";
import {
  dropDataset,
  pgIgnore,
  pgQuery,
  projectsEnv,
  TEST_PG_URL,
  uniqueDataset,
} from "../helpers/postgres.ts";

const TABLES = ["issues", "issues__labels", "issues__assignees", "issue_notes"];

/** Every row of every table, without the random `_dlt_*` ids, child rows with their parent id. */
async function snapshot(dataset: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    const nested = t.includes("__");
    const rows = await pgQuery<{ r: string }>(
      `SELECT ((to_jsonb(t) - '_dlt_id' - '_dlt_load_id' - '_dlt_parent_id' - '_dlt_root_id')${
        nested ? ` || jsonb_build_object('parent_id', p.id)` : ""
      })::text AS r FROM "${dataset}"."${t}" AS t${
        nested ? ` JOIN "${dataset}".issues AS p ON p._dlt_id = t._dlt_parent_id` : ""
      } ORDER BY 1`,
    );
    out[t] = rows.map((x) => x.r);
  }
  return out;
}

async function cursors(dataset: string): Promise<unknown> {
  const rows = await pgQuery<{ state: string }>(
    `SELECT s.state FROM "${dataset}"._dlt_pipeline_state s JOIN "${dataset}"._dlt_loads l
     ON l.load_id = s._dlt_load_id WHERE l.status = 0 ORDER BY l.load_id DESC LIMIT 1`,
  );
  const state = decompressState(rows[0].state);
  return state.sources!.gitlab.resources!.issues.incremental_per_parent;
}

async function stateRows(dataset: string): Promise<number> {
  const rows = await pgQuery<{ n: string }>(
    `SELECT count(*)::text AS n FROM "${dataset}"._dlt_pipeline_state`,
  );
  return Number(rows[0].n);
}

async function loadsAreComplete(dataset: string): Promise<void> {
  for (const t of TABLES.filter((x) => !x.includes("__"))) {
    const stray = await pgQuery<{ n: string }>(
      `SELECT count(*)::text AS n FROM "${dataset}"."${t}" WHERE _dlt_load_id NOT IN
       (SELECT load_id FROM "${dataset}"._dlt_loads WHERE status = 0)`,
    );
    assert.equal(Number(stray[0].n), 0, `rows of ${t} from an incomplete load`);
  }
  const dupes = await pgQuery<{ n: string }>(
    `SELECT count(*)::text AS n FROM (SELECT id FROM "${dataset}".issues GROUP BY id HAVING count(*) > 1) d`,
  );
  assert.equal(Number(dupes[0].n), 0, "duplicate issues");
}

const POINTS = [
  "page:2", // during fetch
  "extracted",
  "extract_committed", // package committed, local state.json not yet saved
  "normalize_file:2", // during normalize: part of the package written to load/new/
  "normalized",
  "migrated",
  "copied", // during the COPY of the load transaction
  "completed", // _dlt_loads row written, before COMMIT
  "committed", // after COMMIT, before the package moves to loaded/
];

Deno.test({
  name: "a run killed at any point and rerun leaves the tables of an uninterrupted run",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 5 },
    });
    const ids = gitlab.data.projects.map((p) => p.id).sort((a, b) => a - b).slice(0, 2);
    const cwd = await Deno.makeTempDir();
    const names = ["baseline", ...POINTS];
    const datasets = new Map(names.map((n) => [n, uniqueDataset("res")]));
    const envOf = (name: string, crash?: string): Record<string, string> => ({
      SOURCES__GITLAB__BASE_URL: gitlab.url,
      SOURCES__GITLAB__API_KEY: "glpat-test",
      SOURCES__GITLAB__PROJECTS: JSON.stringify(ids),
      DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
      DATASET_NAME: datasets.get(name)!,
      PIPELINE_NAME: `p_${name.replace(/\W/g, "_")}`,
      PIPELINES_DIR: join(cwd, "pipelines"),
      ...(crash ? { GITLAB_PG_TEST_CRASH_AT: crash } : {}),
    });
    const args = ["run", "--resources", "issues,issue_notes"];
    try {
      // every pipeline makes the same first load
      for (const name of names) {
        const res = await runCli(args, { cwd, env: envOf(name) });
        assert.equal(res.code, 0, res.stderr);
      }
      // then GitLab changes: updates and new issues in both projects
      gitlab.advance(60_000);
      gitlab.updateIssue(ids[0], 1, { title: "changed" });
      gitlab.updateIssue(ids[1], 3, { labels: ["x", "y", "z"] });
      gitlab.addIssue(ids[0], { title: "new a" });
      gitlab.addIssue(ids[1], { title: "new b" });

      const base = await runCli([...args, "--json"], { cwd, env: envOf("baseline") });
      assert.equal(base.code, 0, base.stderr);
      /** Rows of `issues` a run reports in its packages, pending ones it finished included. */
      const issueRows = (stdout: string) =>
        (JSON.parse(stdout).load_packages as { rows: Record<string, number> }[])
          .reduce((n, p) => n + (p.rows.issues ?? 0), 0);
      assert.equal(issueRows(base.stdout), 4);
      const expected = await snapshot(datasets.get("baseline")!);
      const expectedCursors = await cursors(datasets.get("baseline")!);
      const expectedStates = await stateRows(datasets.get("baseline")!);
      assert.equal(expected.issues.length, 12);

      for (const [i, point] of POINTS.entries()) {
        // every other crashed run has a worker normalizing the package while it is extracted
        const follow: Record<string, string> = i % 2 === 0
          ? { NORMALIZE__WORKERS: "2", GITLAB_PG_TEST_FOLLOW_MIN_BYTES: "0" }
          : {};
        const crashed = await runCli(args, { cwd, env: { ...envOf(point, point), ...follow } });
        assert.equal(crashed.code, 137, `crash at ${point}: ${crashed.stderr}`);
        const rerun = await runCli([...args, "--json"], { cwd, env: envOf(point) });
        assert.equal(rerun.code, 0, `rerun after ${point}: ${rerun.stderr}`);
        assert.equal(issueRows(rerun.stdout), 4, `rows reported by the rerun after ${point}`);
        const dataset = datasets.get(point)!;
        assert.deepEqual(await snapshot(dataset), expected, `tables after a crash at ${point}`);
        assert.deepEqual(await cursors(dataset), expectedCursors, `cursors after ${point}`);
        await loadsAreComplete(dataset);
        // the append table `_dlt_pipeline_state`: no duplicate rows after a crash
        assert.equal(await stateRows(dataset), expectedStates, `state rows after ${point}`);
      }
    } finally {
      for (const d of datasets.values()) await dropDataset(d);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a first run killed after its parallel COPY, or in its transaction, and rerun leaves the tables of an uninterrupted run and nothing aside",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 8 },
    });
    const ids = gitlab.data.projects.map((p) => p.id);
    const cwd = await Deno.makeTempDir();
    const points = ["precopied", "copied", "completed"];
    const datasets = new Map(["baseline", ...points].map((n) => [n, uniqueDataset("pre")]));
    // every first load's new tables COPYed over two connections (the test's are small)
    const envOf = (name: string, crash?: string): Record<string, string> => ({
      ...projectsEnv(gitlab, ids, { dataset: datasets.get(name)!, cwd }),
      PIPELINE_NAME: `p_${name}`,
      LOAD__WORKERS: name === "baseline" ? "1" : "2",
      GITLAB_PG_TEST_PRECOPY_MIN_BYTES: "0",
      ...(crash ? { GITLAB_PG_TEST_CRASH_AT: crash } : {}),
    });
    const aside = async (dataset: string) =>
      (await pgQuery<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_namespace WHERE starts_with(nspname, $1)`,
        [`${dataset}_load_`],
      ))[0].n;
    const args = ["run", "--resources", "issues,issue_notes"];
    try {
      const base = await runCli(args, { cwd, env: envOf("baseline") });
      assert.equal(base.code, 0, base.stderr);
      const expected = await snapshot(datasets.get("baseline")!);
      assert.equal(expected.issues.length, 16);
      for (const point of points) {
        const dataset = datasets.get(point)!;
        const crashed = await runCli(args, { cwd, env: envOf(point, point) });
        assert.equal(crashed.code, 137, `crash at ${point}: ${crashed.stderr}`);
        // the tables set aside are still there, the dataset has none of them
        assert.equal(await aside(dataset), "1", `tables set aside at ${point}`);
        const rerun = await runCli(args, { cwd, env: envOf(point) });
        assert.equal(rerun.code, 0, `rerun after ${point}: ${rerun.stderr}`);
        assert.deepEqual(await snapshot(dataset), expected, `tables after a crash at ${point}`);
        await loadsAreComplete(dataset);
        assert.equal(await aside(dataset), "0", `tables left aside after ${point}`);
      }
    } finally {
      for (const d of datasets.values()) await dropDataset(d);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a rerun that loads a pending package, then fails, leaves the working schema in step",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // the pending package creates `weight bigint`; the rerun loads it and then fails (a 401 in
    // its own extract). The next run must know the column: a float weight then goes to a
    // variant column instead of a COPY of 3.5 into bigint, which failed every run after
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 5 },
    });
    const pid = gitlab.data.projects[0].id;
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("stale");
    const env = (crash?: string) => ({
      ...projectsEnv(gitlab, [pid], { dataset, cwd }),
      ...(crash ? { GITLAB_PG_TEST_CRASH_AT: crash } : {}),
    });
    const args = ["run", "--resources", "issues"];
    try {
      assert.equal((await runCli(args, { cwd, env: env() })).code, 0);
      gitlab.advance(60_000);
      gitlab.updateIssue(pid, 1, { weight: 3 } as never);
      assert.equal((await runCli(args, { cwd, env: env("normalized") })).code, 137);
      gitlab.faults.push({ kind: "status", status: 401, match: /\/issues$/, times: 1 });
      const failed = await runCli(args, { cwd, env: env() });
      assert.notEqual(failed.code, 0, "the rerun fails after loading the pending package");
      gitlab.advance(60_000);
      gitlab.updateIssue(pid, 2, { weight: 3.5 } as never);
      const next = await runCli(args, { cwd, env: env() });
      assert.equal(next.code, 0, next.stderr);
      const columns = await pgQuery<{ c: string }>(
        `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'issues' AND column_name LIKE 'weight%'
         ORDER BY 1`,
        [dataset],
      );
      assert.deepEqual(columns.map((c) => c.c), [
        "weight bigint",
        "weight__v_double double precision",
      ]);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "two runs at once on one working dir: the second waits for the first, nothing is lost",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // without the working dir's lock the second run's clean-up took the first run's package
    // while it was being normalized (the first then failed on a missing file)
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 30 },
    });
    // the first run's first issue page answers after 1.5 s: the second run starts meanwhile
    gitlab.faults.push({ kind: "delay", ms: 1500, match: /\/issues$/ });
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("twice");
    const env = projectsEnv(gitlab, gitlab.data.projects.map((p) => p.id), { dataset, cwd });
    try {
      const args = ["run", "--resources", "issues,issue_notes"];
      const first = runCli(args, { cwd, env });
      await new Promise((r) => setTimeout(r, 700)); // the first is waiting for its page by then
      const second = await runCli(args, { cwd, env });
      const one = await first;
      assert.equal(one.code, 0, one.stderr);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /another gitlab-pg run is using .*: waiting for it to finish/);
      await loadsAreComplete(dataset);
      const issues = await pgQuery<{ n: string }>(
        `SELECT count(*)::text AS n FROM "${dataset}".issues`,
      );
      assert.equal(Number(issues[0].n), 60);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a first PGlite run killed while the new database is written leaves no half database",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 3 },
    });
    const cwd = await Deno.makeTempDir();
    const workdir = join(cwd, "pipelines", "gitlab_pipeline");
    const env = (crash?: string) => ({
      ...projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd }),
      ...(crash ? { GITLAB_PG_TEST_CRASH_AT: crash } : {}),
    });
    const args = ["run", "--resources", "issues", "--json"];
    try {
      const crashed = await runCli(args, { cwd, env: env("pglite_created") });
      assert.equal(crashed.code, 137, crashed.stderr);
      // killed before its creation was marked done: the next open makes the folder again (a
      // folder cut short after PG_VERSION never opened again)
      assert.ok(existsSync(join(workdir, "pglite.creating")));
      const pgVersion = join(workdir, "pglite", "PG_VERSION");
      await Deno.writeTextFile(pgVersion, ""); // as a kill just after PG_VERSION leaves it
      await Deno.remove(join(workdir, "pglite", "postgresql.conf"));
      const rerun = await runCli(args, { cwd, env: env() });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(JSON.parse(rerun.stdout).load_packages[0].rows.issues, 3);
      assert.ok(!existsSync(join(workdir, "pglite.creating")));
      // and the database opens again later
      const again = await runCli(["info", "--json"], { cwd, env: env() });
      assert.equal(again.code, 0, again.stderr);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
