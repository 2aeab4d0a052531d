/**
 * The CLI as a user meets it: help, version, usage mistakes (exit 2), configuration and catalog
 * errors (exit 2, file:line:col), failures (exit 1) — all with secrets kept out of the output.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { assertGolden } from "../helpers/golden.ts";
import {
  dropDataset,
  pgIgnore,
  pgQuery,
  projectsEnv,
  TEST_PG_URL,
  uniqueDataset,
} from "../helpers/postgres.ts";

/**
 * One project of a fresh fake GitLab, a catalog file written into `cwd` from `lines` (given the
 * project id) and the env of a Postgres run of it into a new dataset.
 */
async function catalogRun(
  cwd: string,
  file: string,
  issues: number,
  lines: (project: number) => string[],
) {
  const gitlab = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: issues },
  });
  const project = gitlab.data.projects[0].id;
  await Deno.writeTextFile(join(cwd, file), [...lines(project), ""].join("\n"));
  const dataset = uniqueDataset(file.replace(/\W.*/, "").slice(0, 6));
  const env = {
    SOURCES__GITLAB__BASE_URL: gitlab.url,
    SOURCES__GITLAB__API_KEY: "glpat-test",
    DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
    DATASET_NAME: dataset,
    PIPELINES_DIR: join(cwd, "p"),
  };
  return { gitlab, project, dataset, env };
}

async function inTempDir(fn: (cwd: string) => Promise<void>): Promise<void> {
  const cwd = await Deno.makeTempDir();
  try {
    await fn(cwd);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "--version and --help print to stdout and exit 0",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      const version = await runCli(["--version"], { cwd });
      assert.equal(version.code, 0);
      assert.match(version.stdout, /^gitlab-pg \d+\.\d+\.\d+\n$/);
      const help = await runCli(["--help"], { cwd });
      assert.equal(help.code, 0);
      await assertGolden(
        "cli",
        "help",
        help.stdout.replace(/gitlab-pg \d+\.\d+\.\d+/, "gitlab-pg X"),
      );
      const runHelp = await runCli(["run", "--help"], { cwd });
      assert.equal(runHelp.code, 0);
      await assertGolden("cli", "run_help", runHelp.stdout);
    }),
});

Deno.test({
  name: "usage mistakes exit 2 with a suggestion",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      const cases: [string[], string][] = [
        [["rnu"], "unknown_command"],
        [["run", "--limt", "2"], "unknown_flag"],
        [["run", "--limit", "two"], "bad_limit"],
        [["run", "--destination", "duckdb"], "bad_destination"],
        [["run", "--concurrency", "257"], "bad_concurrency"],
      ];
      for (const [args, name] of cases) {
        const res = await runCli(args, { cwd });
        assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
        assert.equal(res.stdout, "");
        await assertGolden("cli", name, res.stderr);
      }
    }),
});

Deno.test({
  name: "a bad catalog exits 2 with every problem as file:line:col",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await Deno.writeTextFile(
        join(cwd, "bad.yaml"),
        [
          "client:",
          "  paginator: {type: gitlab}",
          "resources:",
          "  - name: issues",
          "    endpoint:",
          "      path: projects/{resources.projets.id}/issues",
          "      paginater: {type: gitlab}",
          "    write_disposition: mrege",
          "",
        ].join("\n"),
      );
      const res = await runCli(["run", "--catalog", "bad.yaml"], { cwd });
      assert.equal(res.code, 2);
      await assertGolden("cli", "bad_catalog", res.stderr);
      const check = await runCli(["catalog", "check", "bad.yaml"], { cwd });
      assert.equal(check.code, 2);
      assert.equal(check.stderr, res.stderr);
      // several files (catalog check *.yaml): every one is checked, a good one first does not
      // hide a bad one after it
      const both = await runCli(["catalog", "check", "seed", "bad.yaml"], { cwd });
      assert.equal(both.code, 2, both.stderr);
      assert.match(both.stdout, /^resources\/seed.yaml: OK, \d+ resources$/m);
      assert.ok(both.stderr.startsWith(res.stderr.trimEnd()), both.stderr);
      assert.match(both.stderr, /^1 of 2 catalogs have problems$/m);
      const good = await runCli(["catalog", "check", "seed", "seed"], { cwd });
      assert.equal(good.code, 0, good.stderr);
    }),
});

Deno.test({
  name: "a bad config exits 2 naming the TOML key and the env var",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await Deno.mkdir(join(cwd, ".dlt"));
      await Deno.writeTextFile(
        join(cwd, ".dlt", "config.toml"),
        '[sources.gitlab]\nbase_url = "ftp://gitlab.example.com"\nprojects = 42\n',
      );
      const res = await runCli(["run"], { cwd });
      assert.equal(res.code, 2);
      await assertGolden("cli", "bad_config", res.stderr);
    }),
});

Deno.test({
  name: "a rejected token stops the run with exit 1 and a message about the token",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab();
      const res = await runCli(["run", "--pipelines-dir", join(cwd, "p")], {
        cwd,
        env: {
          SOURCES__GITLAB__BASE_URL: gitlab.url,
          SOURCES__GITLAB__API_KEY: "glpat-wrong-token-123",
        },
      });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /GitLab rejected the token \(401 Unauthorized\)/);
      assert.match(res.stderr, /SOURCES__GITLAB__API_KEY/);
      assert.doesNotMatch(res.stdout + res.stderr, /glpat-wrong-token-123/);
      // with --json, stdout still holds one JSON document
      const json = await runCli(["run", "--json", "--pipelines-dir", join(cwd, "p")], {
        cwd,
        env: { SOURCES__GITLAB__BASE_URL: gitlab.url, SOURCES__GITLAB__API_KEY: "glpat-wrong-2" },
      });
      assert.equal(json.code, 1);
      const doc = JSON.parse(json.stdout);
      assert.equal(doc.status, "failed");
      assert.equal(doc.exit_code, 1);
      assert.match(doc.error, /GitLab rejected the token \(401 Unauthorized\)/);
      assert.doesNotMatch(json.stdout, /glpat-wrong-2/);
    }),
});

Deno.test({
  name: "a failed run posts a redacted failure alert to the configured webhook",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab();
      const posted: string[] = [];
      await using hook = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        async (req) => {
          posted.push(await req.text());
          return new Response("ok");
        },
      );
      const res = await runCli(["run", "--pipelines-dir", join(cwd, "p")], {
        cwd,
        env: {
          SOURCES__GITLAB__BASE_URL: gitlab.url,
          SOURCES__GITLAB__API_KEY: "glpat-wrong-token-123",
          RUNTIME__SLACK_INCOMING_HOOK: `http://127.0.0.1:${hook.addr.port}/hooks/T000/B000`,
        },
      });
      assert.equal(res.code, 1);
      assert.equal(posted.length, 1);
      const text = JSON.parse(posted[0]).text as string;
      assert.match(text, /^Pipeline gitlab_pipeline failed: GitLab rejected the token/);
      assert.doesNotMatch(text, /glpat-wrong-token-123/);
    }),
});

Deno.test({
  name: "a webhook that fails the schema change alert is a warning of the run (--json, trace)",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab();
      await using hook = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () => new Response("no", { status: 500 }),
      );
      const env = {
        ...projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd }),
        RUNTIME__SLACK_INCOMING_HOOK: `http://127.0.0.1:${hook.addr.port}/hooks/T000/B000`,
      };
      const res = await runCli(["run", "--resources", "projects", "--json"], { cwd, env });
      assert.equal(res.code, 0, res.stderr);
      const warning = "Cannot send the schema change alert: the webhook answered 500";
      assert.deepEqual(JSON.parse(res.stdout).warnings, [warning]);
      assert.match(res.stderr, new RegExp(`WARNING: ${warning}`));
      const trace = await runCli(["trace", "--json"], { cwd, env });
      assert.deepEqual(JSON.parse(trace.stdout).warnings, [warning]);
    }),
});

Deno.test({
  name: "run --resources issues (without issue_notes) warns that the notes fall behind",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab({
        size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 2 },
      });
      const env = projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd });
      const res = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
      assert.equal(res.code, 0, res.stderr);
      const warnings = JSON.parse(res.stdout).warnings as string[];
      assert.equal(warnings.length, 1, res.stdout);
      assert.match(warnings[0], /^Resource "issues" runs without its child "issue_notes"/);
      assert.match(res.stderr, /WARNING: Resource "issues" runs without its child/);
    }),
});

Deno.test({
  name: "an unreachable Postgres exits 1 without showing the password",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab();
      const res = await runCli(["run", "--pipelines-dir", join(cwd, "p")], {
        cwd,
        env: {
          SOURCES__GITLAB__BASE_URL: gitlab.url,
          SOURCES__GITLAB__API_KEY: "glpat-test",
          DESTINATION__POSTGRES__CREDENTIALS:
            "postgresql://loader:s3cret-pw@127.0.0.1:1/db?connect_timeout=2",
        },
      });
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /Cannot connect to Postgres at postgresql:\/\/loader:\*\*\*@127\.0\.0\.1:1\/db/,
      );
      // where the setting came from, and what to check
      assert.match(
        res.stderr,
        /set by destination\.postgres\.credentials in the environment \(DESTINATION__POSTGRES__CREDENTIALS…\)/,
      );
      assert.match(res.stderr, /nothing listens there: is the server running/);
      assert.doesNotMatch(res.stdout + res.stderr, /s3cret-pw/);
    }),
});

Deno.test({
  name: "--catalog seed names the embedded seed catalog from any working directory",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      const res = await runCli(["catalog", "--catalog", "seed", "--json"], { cwd });
      assert.equal(res.code, 0, res.stderr);
      const rows = JSON.parse(res.stdout) as { table_name: string }[];
      const tables = new Set(rows.map((r) => r.table_name));
      assert.ok(tables.has("api_entities_badge"));
      assert.ok(tables.has("api_entities_job"));
      // a file of that name in the working directory wins over the embedded catalog
      await Deno.writeTextFile(join(cwd, "seed"), "client: {}\nresources: [only_one]\n");
      const local = await runCli(["catalog", "--catalog", "seed", "--json"], { cwd });
      assert.equal(local.code, 0, local.stderr);
      assert.deepEqual(JSON.parse(local.stdout).map((r: { name: string }) => r.name), ["only_one"]);
    }),
});

Deno.test({
  name: "a catalog's `limit` caps the pages of every request series, and --limit overrides it",
  ignore: pgIgnore,
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      const run = await catalogRun(cwd, "limited.yaml", 130, (project) => [
        "limit: 1",
        "client: {paginator: {type: gitlab}}",
        "resource_defaults: {endpoint: {params: {per_page: 50}}, primary_key: id, write_disposition: merge}",
        "resources:",
        `  - {name: issues, endpoint: {path: projects/${project}/issues}}`,
      ]);
      await using _gitlab = run.gitlab;
      const { dataset, env } = run;
      try {
        const one = await runCli(["run", "--catalog", "limited.yaml", "--json"], { cwd, env });
        assert.equal(one.code, 0, one.stderr);
        assert.equal(JSON.parse(one.stdout).load_packages[0].rows.issues, 50);
        const two = await runCli(["run", "--catalog", "limited.yaml", "--limit", "2", "--json"], {
          cwd,
          env,
        });
        assert.equal(two.code, 0, two.stderr);
        assert.equal(JSON.parse(two.stdout).load_packages[0].rows.issues, 100);
      } finally {
        await dropDataset(dataset);
      }
    }),
});

Deno.test({
  name:
    "a parent the catalog never loads (selected: false) saves its cursor, so its append child loads no duplicates",
  ignore: pgIgnore,
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      const run = await catalogRun(cwd, "notes.yaml", 12, (project) => [
        "client: {paginator: {type: gitlab}}",
        "resources:",
        "  - name: issues",
        "    selected: false",
        "    primary_key: id",
        "    endpoint:",
        `      path: projects/${project}/issues`,
        "      params: {order_by: updated_at, sort: asc}",
        "      incremental: {cursor_path: updated_at, start_param: updated_after, initial_value: '2000-01-01T00:00:00.000Z'}",
        "  - name: issue_notes",
        "    write_disposition: append",
        `    endpoint: {path: "projects/${project}/issues/{resources.issues.iid}/notes"}`,
      ]);
      await using gitlab = run.gitlab;
      const { project, dataset, env } = run;
      try {
        const one = await runCli(["run", "--catalog", "notes.yaml", "--json"], { cwd, env });
        assert.equal(one.code, 0, one.stderr);
        const notes = JSON.parse(one.stdout).load_packages[0].rows.issue_notes;
        assert.ok(notes > 0);
        // one issue changes: the next run asks from the saved cursor and reads its notes only
        gitlab.advance(60_000);
        const issue = gitlab.updateIssue(project, gitlab.data.issues.get(project)![0].iid);
        const before = gitlab.requests.length;
        const two = await runCli(["run", "--catalog", "notes.yaml", "--json"], { cwd, env });
        assert.equal(two.code, 0, two.stderr);
        const asked = gitlab.requests.slice(before).filter((r) => r.apiPath?.endsWith("/issues"));
        assert.ok(asked.length > 0);
        for (const r of asked) assert.notEqual(r.query.updated_after, "2000-01-01T00:00:00.000Z");
        const rows = await pgQuery<{ n: number; distinct_ids: number }>(
          `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids
           FROM "${dataset}".issue_notes`,
        );
        const own = gitlab.data.issueNotes.get(issue.id)?.length ?? 0;
        assert.equal(rows[0].n, notes + own, "only the changed issue's notes again");
      } finally {
        await dropDataset(dataset);
      }
    }),
});

Deno.test({
  name: "an unusable folder is a configuration error named by its key, found before any request",
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab({});
      await Deno.writeTextFile(join(cwd, "afile"), "");
      const env = projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd });
      for (
        const [key, flag] of [["export_schema_path", "EXPORT_SCHEMA_PATH"], [
          "pipelines_dir",
          "PIPELINES_DIR",
        ]]
      ) {
        const res = await runCli(["run", "--resources", "issues"], {
          cwd,
          env: { ...env, [flag]: join(cwd, "afile") },
        });
        assert.equal(res.code, 2, res.stderr);
        assert.match(
          res.stderr,
          new RegExp(
            `^error: Cannot use folder ".*afile.*" \\(${key} = ".*afile", env ${flag}\\): `,
          ),
        );
        assert.doesNotMatch(res.stderr, /a bug in gitlab-pg/);
      }
      assert.equal(gitlab.requests.length, 0);
      // other file-system failures are not reported as bugs either
      const init = await runCli(["init", "--dir", join(cwd, "afile", "sub")], { cwd, env: {} });
      assert.equal(init.code, 1, init.stderr);
      assert.match(init.stderr, /^error: .*afile.* \(check the folders in the configuration/);
      assert.doesNotMatch(init.stderr, /a bug in gitlab-pg|\n\s+at /);
    }),
});

Deno.test({
  name:
    "the dataset name becomes its snake_case form as in dlt; a pipeline name must name a folder",
  ignore: pgIgnore,
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab({});
      const raw = `GitLab-Data ${uniqueDataset("x")}`;
      const normalized = `git_lab_data_${raw.split(" ")[1]}`;
      try {
        const env = projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd, dataset: raw });
        const res = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
        assert.equal(res.code, 0, res.stderr);
        assert.equal(JSON.parse(res.stdout).dataset_name, normalized);
        const schemas = await pgQuery<{ n: string }>(
          "SELECT nspname AS n FROM pg_namespace WHERE nspname IN ($1, $2)",
          [raw, normalized],
        );
        assert.deepEqual(schemas.map((s) => s.n), [normalized]);
        const info = await runCli(["info", "--json"], { cwd, env });
        assert.equal(info.code, 0, info.stderr);
        assert.match(info.stdout, new RegExp(`"dataset_name": "${normalized}"`));
        const bad = await runCli(["run", "--pipeline-name", "bad/name"], { cwd, env });
        assert.equal(bad.code, 2, bad.stderr);
        assert.match(bad.stderr, /^error: Cannot use pipeline_name "bad\/name"/);
      } finally {
        await dropDataset(normalized);
      }
    }),
});

Deno.test({
  name: "import_schema_path without a schema there gets the current one to edit, as dlt does",
  ignore: pgIgnore,
  ...opts,
  fn: () =>
    inTempDir(async (cwd) => {
      await using gitlab = await startFakeGitlab({});
      const dataset = uniqueDataset("imp");
      const dir = join(cwd, "schemas", "import");
      const env = {
        ...projectsEnv(gitlab, [gitlab.data.projects[0].id], { cwd, dataset }),
        IMPORT_SCHEMA_PATH: dir,
      };
      try {
        const first = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
        assert.equal(first.code, 0, first.stderr);
        const written = await Deno.readTextFile(join(dir, "gitlab.schema.yaml"));
        assert.match(written, /^ {2}issues:$/m);
        // an unedited file is not imported again: the schema only changes with the data
        const second = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
        assert.equal(second.code, 0, second.stderr);
        assert.equal(await Deno.readTextFile(join(dir, "gitlab.schema.yaml")), written);
        assert.equal(
          JSON.parse(second.stdout).schema.version_hash,
          JSON.parse(first.stdout).schema.version_hash,
        );
        // the user's edit is imported by the next run
        await Deno.writeTextFile(
          join(dir, "gitlab.schema.yaml"),
          written.replace(/^ {2}issues:$/m, "  issues:\n    description: edited by hand"),
        );
        const third = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
        assert.equal(third.code, 0, third.stderr);
        assert.notEqual(
          JSON.parse(third.stdout).schema.version_hash,
          JSON.parse(second.stdout).schema.version_hash,
        );
        const exported = await Deno.readTextFile(
          join(cwd, "schemas", "export", "gitlab.schema.yaml"),
        );
        assert.match(exported, /description: edited by hand/);
      } finally {
        await dropDataset(dataset);
      }
    }),
});
