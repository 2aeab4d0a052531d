/**
 * Operating gitlab-pg end to end, `main.ts` as a subprocess from another working directory:
 * `run --progress log`, `info` (text, -v, --json), `trace` (text, --json, a failed run with
 * its secret redacted), `init`, help of every command, and the `compile` task's permissions.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { type FakeGitlab, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { all } from "../fake_gitlab/data.ts";
import { cliCommand, MAIN, runCli } from "../helpers/cli.ts";
import {
  dropDataset,
  pgIgnore,
  pgQuery,
  projectsEnv,
  TEST_PG_URL,
  uniqueDataset,
} from "../helpers/postgres.ts";
import { describeConfigKeys } from "../../lib/config/mod.ts";

async function smallGitlab(): Promise<FakeGitlab> {
  return await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 3 },
  });
}

function envFor(gitlab: FakeGitlab, cwd: string): Record<string, string> {
  const group = gitlab.data.groups.find((g) => g.parent_id === null)!.full_path;
  return {
    SOURCES__GITLAB__BASE_URL: gitlab.url,
    SOURCES__GITLAB__API_KEY: "glpat-test",
    SOURCES__GITLAB__GROUPS: JSON.stringify([group]),
    PIPELINES_DIR: join(cwd, "pipelines"),
  };
}

/**
 * A small fake GitLab, a working directory and the environment of runs that load into a new
 * dataset of the test Postgres; disposing drops the dataset and removes the directory.
 */
async function postgresRun(prefix: string) {
  const gitlab = await smallGitlab();
  const cwd = await Deno.makeTempDir();
  const dataset = uniqueDataset(prefix);
  const env = {
    ...envFor(gitlab, cwd),
    DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
    DATASET_NAME: dataset,
  };
  return {
    gitlab,
    cwd,
    dataset,
    env,
    async [Symbol.asyncDispose]() {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
      await gitlab[Symbol.asyncDispose]();
    },
  };
}

/** A port of 127.0.0.1 that nobody listens on (just closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A test of runs into the test Postgres (see {@linkcode postgresRun}). */
function postgresTest(
  name: string,
  prefix: string,
  fn: (setup: Awaited<ReturnType<typeof postgresRun>>) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: pgIgnore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await using setup = await postgresRun(prefix);
      await fn(setup);
    },
  });
}

Deno.test({
  name: "run --progress log, then info and trace describe the run (PGlite)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await smallGitlab();
    const cwd = await Deno.makeTempDir();
    const env = envFor(gitlab, cwd);
    try {
      // (every progress event prints its block: the load's job files one by one)
      const run = await runCli(["run", "--resources", "issues", "--progress", "log", "--json"], {
        cwd,
        env: { ...env, GITLAB_PG_TEST_LOG_PERIOD_MS: "0" },
      });
      assert.equal(run.code, 0, run.stderr);
      const runInfo = JSON.parse(run.stdout);
      const loadId = runInfo.load_packages[0].load_id;
      // dlt's LogCollector blocks on stderr, headers centered in 80 columns
      const header = run.stderr.split("\n").find((l) => l.includes(" Extract gitlab "));
      assert.equal(header, `${"-".repeat(32)} Extract gitlab ${"-".repeat(32)}`);
      assert.match(run.stderr, /^issues: \d+ {2}\| Time: \d+\.\d\ds \| Rate: \d+\.\d\d\/s$/m);
      assert.match(
        run.stderr,
        new RegExp(`^-+ Load gitlab in ${loadId.replace(".", "\\.")} -+$`, "m"),
      );
      assert.match(run.stderr, /^Jobs: (\d+)\/\1 \(100\.0%\) \| Time: /m);
      // the load told each job file as it was COPYed, the last by the end's block
      const jobs = [...run.stderr.matchAll(/^Jobs: (\d+)\/(\d+) /gm)].map((m) => [+m[1], +m[2]]);
      const total = runInfo.load_packages[0].jobs;
      assert.ok(total >= 3, String(total));
      assert.deepEqual(jobs, Array.from({ length: total }, (_, i) => [i + 1, total]));

      const info = await runCli(["info"], { cwd, env });
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /^Found pipeline gitlab_pipeline in .*pipelines$/m);
      assert.match(info.stdout, /^Synchronized state:$/m);
      assert.match(info.stdout, /^dataset_name: gitlab_data$/m);
      assert.match(info.stdout, /^Add -v option to see sources state/m);
      assert.match(info.stdout, /^issues with 3 table\(s\) and 1 resource state slot\(s\)$/m);
      assert.match(info.stdout, new RegExp(`^Has 1 completed load packages.*\\n${loadId}$`, "m"));
      assert.match(info.stdout, /^Pipeline has last run trace/m);
      const verbose = await runCli(["info", "-v"], { cwd, env });
      assert.match(verbose.stdout, /^\tissues__labels table \d+ column\(s\) received data$/m);
      assert.match(verbose.stdout, /"incremental_per_parent"|"incremental"/);

      const infoJson = JSON.parse((await runCli(["info", "--json"], { cwd, env })).stdout);
      for (
        const key of [
          "pipeline_name",
          "pipelines_dir",
          "working_dir",
          "found",
          "state_source",
          "state",
          "local_state",
          "schemas",
          "pending_packages",
          "completed_packages",
          "has_trace",
        ]
      ) assert.ok(key in infoJson, key);
      assert.equal(infoJson.state_source, "local");
      assert.deepEqual(infoJson.completed_packages, [loadId]);
      assert.deepEqual(infoJson.pending_packages, { extracted: [], normalized: [] });
      const issues = infoJson.schemas[0].resources.find((r: { name: string }) =>
        r.name === "issues"
      );
      assert.ok(issues.tables.every((t: { received_data: boolean }) => t.received_data));

      const trace = await runCli(["trace"], { cwd, env });
      assert.equal(trace.code, 0, trace.stderr);
      assert.match(
        trace.stdout,
        /^Run started at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00 and COMPLETED in .* with 3 steps\.$/m,
      );
      for (const step of ["extract", "normalize", "load"]) {
        assert.match(trace.stdout, new RegExp(`^Step ${step} COMPLETED in `, "m"));
      }
      const traceJson = JSON.parse((await runCli(["trace", "--json"], { cwd, env })).stdout);
      assert.equal(traceJson.status, "completed");
      assert.deepEqual(traceJson.steps.map((s: { step: string }) => s.step), [
        "extract",
        "normalize",
        "load",
      ]);
      assert.equal(traceJson.requests, runInfo.requests);
      assert.equal(traceJson.steps[1].info.rows.issues, runInfo.load_packages[0].rows.issues);
      assert.equal(traceJson.steps[2].info.load_packages[0].load_id, loadId);
      assert.equal(traceJson.error, null);
      assert.doesNotMatch(JSON.stringify(traceJson), /glpat-test/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a destination that cannot be reached fails the trace's sync step, not an extract of nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cwd = await Deno.makeTempDir();
    const env = {
      SOURCES__GITLAB__BASE_URL: "http://127.0.0.1:9/api/v4",
      SOURCES__GITLAB__API_KEY: "glpat-test",
      SOURCES__GITLAB__PROJECTS: '["a/b"]',
      PIPELINES_DIR: join(cwd, "pipelines"),
      DESTINATION__POSTGRES__CREDENTIALS: `postgresql://loader:pw@127.0.0.1:${closedPort()}/db`,
    };
    try {
      const run = await runCli(["run", "--resources", "issues"], { cwd, env });
      assert.equal(run.code, 1, run.stderr);
      const doc = JSON.parse((await runCli(["trace", "--json"], { cwd, env })).stdout);
      assert.equal(doc.status, "failed");
      assert.deepEqual(doc.steps.map((s: { step: string; status: string }) => [s.step, s.status]), [
        ["sync", "failed"],
      ]);
      assert.equal(doc.requests, 0);
      const text = await runCli(["trace"], { cwd, env });
      assert.match(text.stdout, /^Step sync FAILED in /m);
      assert.doesNotMatch(text.stdout, /Step extract/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failed run leaves a FAILED trace with the secret redacted, exit code 1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cwd = await Deno.makeTempDir();
    const port = closedPort();
    const env = {
      SOURCES__GITLAB__BASE_URL: `http://127.0.0.1:${port}/api/v4?private_token=glpat-s3cret-value`,
      SOURCES__GITLAB__API_KEY: "glpat-s3cret-value",
      SOURCES__GITLAB__PROJECTS: '["a/b"]',
      PIPELINES_DIR: join(cwd, "pipelines"),
    };
    try {
      const run = await runCli(["run", "--resources", "issues"], { cwd, env });
      assert.equal(run.code, 1, run.stderr);
      const trace = await runCli(["trace", "--json"], { cwd, env });
      assert.equal(trace.code, 0, trace.stderr);
      const doc = JSON.parse(trace.stdout);
      assert.equal(doc.status, "failed");
      assert.equal(doc.steps.at(-1).status, "failed");
      assert.equal(doc.steps.at(-1).step, "extract");
      // the requests and retries made before the failure ("failed after 5 attempts")
      assert.match(doc.error.message, /after 5 attempts/);
      assert.deepEqual(
        [doc.steps.at(-1).info.requests, doc.steps.at(-1).info.retries],
        [5, 4],
        JSON.stringify(doc.steps.at(-1)),
      );
      assert.ok(doc.error.message.length > 0);
      assert.doesNotMatch(trace.stdout, /s3cret/);
      const text = await runCli(["trace"], { cwd, env });
      assert.match(text.stdout, /and FAILED in .* with 1 steps\./);
      assert.match(text.stdout, /^Error: /m);
      assert.doesNotMatch(text.stdout, /s3cret/);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

postgresTest(
  "damaged files of the working dir are named with what to do, and the advice works",
  "damaged",
  async ({ gitlab, cwd, dataset, env }) => {
    const workdir = join(cwd, "pipelines", "gitlab_pipeline");
    const issues = async () =>
      (await pgQuery<{ n: number; ids: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "${dataset}".issues`,
      ))[0];
    // (a mistyped variable on the way: warned of, in the text and in --json)
    const first = await runCli(["run", "--resources", "issues", "--json"], {
      cwd,
      env: { ...env, SOURCES__GITLAB__PROJECT: "acme/elsewhere" },
    });
    assert.equal(first.code, 0, first.stderr);
    const typo = "Environment variable SOURCES__GITLAB__PROJECT is ignored: gitlab-pg has no " +
      "such setting (did you mean SOURCES__GITLAB__PROJECTS?)";
    assert.ok(first.stderr.includes(`WARNING: ${typo}`), first.stderr);
    assert.ok(JSON.parse(first.stdout).warnings.includes(typo), first.stdout);
    const loaded = await issues();
    assert.equal(loaded.n, all(gitlab.data.issues).length);

    // a trace that is not one: exit 2, the file named, no stack
    await Deno.writeTextFile(join(workdir, "trace.json"), "[]");
    const trace = await runCli(["trace"], { cwd, env });
    assert.equal(trace.code, 2, trace.stderr);
    assert.match(
      trace.stderr,
      /trace\.json": it holds a list, not a JSON object\. The file is damaged; delete it/,
    );
    assert.doesNotMatch(trace.stderr, /a bug|\n\s+at /);

    // an empty state.json (a full disk): exit 2 for run and info, and nothing loaded
    await Deno.writeTextFile(join(workdir, "state.json"), "");
    for (const args of [["run", "--resources", "issues"], ["info"]]) {
      const res = await runCli(args, { cwd, env });
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /state\.json": it is empty\. The file is damaged; delete it/);
    }
    // as told: without it the state comes from the destination, and nothing is loaded twice
    await Deno.remove(join(workdir, "state.json"));
    const again = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await issues(), loaded);

    // a pending package whose schema.json was cut short: named with its folder
    gitlab.addIssue(gitlab.data.projects[0].id, { title: "after the crash" });
    const crashed = await runCli(["run", "--resources", "issues"], {
      cwd,
      env: { ...env, GITLAB_PG_TEST_CRASH_AT: "extract_committed" },
    });
    assert.notEqual(crashed.code, 0);
    const extracted = join(workdir, "normalize", "extracted");
    const [pending] = [...Deno.readDirSync(extracted)].map((e) => e.name);
    const pkg = join(extracted, pending);
    await Deno.writeTextFile(join(pkg, "schema.json"), '{"name": "gitl');
    const stuck = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(stuck.code, 2, stuck.stderr);
    assert.ok(
      stuck.stderr.includes(`delete the package's folder "${pkg}" and the pipeline's state.json`),
      stuck.stderr,
    );
    // as told: the new issue is extracted again and loaded once
    await Deno.remove(pkg, { recursive: true });
    await Deno.remove(join(workdir, "state.json"));
    const healed = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(healed.code, 0, healed.stderr);
    const after = await issues();
    assert.equal(after.n, all(gitlab.data.issues).length);
    assert.equal(after.n, loaded.n + 1);
    assert.equal(after.ids, after.n);
  },
);

postgresTest(
  "a pending package that the destination refuses names itself and what to do",
  "pending",
  async ({ gitlab, cwd, dataset, env }) => {
    const first = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    gitlab.addIssue(gitlab.data.projects[0].id, { title: "a title, not a number" });
    const crashed = await runCli(["run", "--resources", "issues"], {
      cwd,
      env: { ...env, GITLAB_PG_TEST_CRASH_AT: "normalized" },
    });
    assert.notEqual(crashed.code, 0);
    const normalized = join(cwd, "pipelines", "gitlab_pipeline", "load", "normalized");
    const [pending] = [...Deno.readDirSync(normalized)].map((e) => e.name);
    // the destination changed under it: the title column cannot take text any more
    await pgQuery(`ALTER TABLE "${dataset}".issues ALTER COLUMN title TYPE integer USING 0`);
    const stuck = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(stuck.code, 1, stuck.stderr);
    assert.ok(
      stuck.stderr.includes(
        `Package ${pending}, left by an earlier run, did not load: put the destination right ` +
          `and run again; if it cannot take the package's rows, delete the package's folder "${
            join(normalized, pending)
          }" and the pipeline's state.json`,
      ),
      stuck.stderr,
    );
    // the destination put right, the package loads as it is
    await pgQuery(`ALTER TABLE "${dataset}".issues ALTER COLUMN title TYPE text`);
    const healed = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(healed.code, 0, healed.stderr);
    const titles = await pgQuery<{ title: string }>(
      `SELECT title FROM "${dataset}".issues WHERE title = 'a title, not a number'`,
    );
    assert.equal(titles.length, 1);
  },
);

postgresTest(
  "dlt's runtime.request_timeout and request_max_attempts reach GitLab's requests",
  "http",
  async ({ gitlab, cwd, env }) => {
    gitlab.faults.push({ kind: "status", status: 500, match: /\/issues$/, times: 20 });
    const tries = await runCli(["run", "--resources", "issues"], {
      cwd,
      env: { ...env, RUNTIME__REQUEST_MAX_ATTEMPTS: "2" },
    });
    assert.equal(tries.code, 1, tries.stderr);
    assert.match(tries.stderr, /issues\?\S* failed after 2 attempts: HTTP 500/);
    gitlab.faults.clear();
    gitlab.faults.push({ kind: "delay", ms: 3_000, match: /\/issues$/, times: 20 });
    const slow = await runCli(["run", "--resources", "issues"], {
      cwd,
      env: { ...env, RUNTIME__REQUEST_TIMEOUT: "0.5", RUNTIME__REQUEST_MAX_ATTEMPTS: "1" },
    });
    assert.equal(slow.code, 1, slow.stderr);
    assert.match(slow.stderr, /failed after 1 attempt: timed out after 0\.5 s/);
  },
);

postgresTest(
  "info restores the state from Postgres when the working dir is gone",
  "info",
  async ({ cwd, dataset, env }) => {
    const run = await runCli(["run", "--resources", "issues"], { cwd, env });
    assert.equal(run.code, 0, run.stderr);
    await Deno.remove(join(cwd, "pipelines"), { recursive: true });
    const info = await runCli(["info", "--json"], { cwd, env });
    assert.equal(info.code, 0, info.stderr);
    const doc = JSON.parse(info.stdout);
    assert.equal(doc.found, false);
    assert.equal(doc.state_source, "destination");
    assert.equal(doc.state.dataset_name, dataset);
    assert.ok(doc.schemas[0].resources.some((r: { name: string }) => r.name === "issues"));
    const none = await runCli(["trace"], { cwd, env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no trace/);
  },
);

Deno.test("init writes commented .dlt templates, keeps existing files, and they load", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(cwd, ".gitignore"), "node_modules/\n");
    const first = await runCli(["init"], { cwd });
    assert.equal(first.code, 0, first.stderr);
    const config = await Deno.readTextFile(join(cwd, ".dlt/config.toml"));
    const secrets = await Deno.readTextFile(join(cwd, ".dlt/secrets.toml"));
    assert.match(config, /^\[sources\.gitlab\]$/m);
    assert.match(config, /# SOURCES__GITLAB__PROJECTS/);
    assert.match(secrets, /^api_key = "FILL ME OUT"/m);
    // "every key with its env var": each configuration key is in one of the two
    for (const k of describeConfigKeys().filter((k) => k.key)) {
      assert.ok(`${config}${secrets}`.includes(`# ${k.env}`), `${k.key} (${k.env}) missing`);
    }
    assert.match(await Deno.readTextFile(join(cwd, ".gitignore")), /^\.dlt\/secrets\.toml$/m);
    // the secrets file is its owner's alone, the other one readable as usual
    const mode = async (name: string) => (await Deno.stat(join(cwd, ".dlt", name))).mode! & 0o777;
    if (Deno.build.os !== "windows") {
      assert.equal(await mode("secrets.toml"), 0o600);
      assert.equal((await mode("config.toml")) & 0o044, 0o044);
    }
    // a second init keeps the user's edits
    await Deno.writeTextFile(join(cwd, ".dlt/config.toml"), "# mine\n");
    const second = await runCli(["init"], { cwd });
    assert.equal(second.code, 0);
    assert.match(second.stderr, /Kept .*config\.toml/);
    assert.equal(await Deno.readTextFile(join(cwd, ".dlt/config.toml")), "# mine\n");
    // the templates are valid configuration: info reads them (nothing has run yet)
    await Deno.chmod(join(cwd, ".dlt", "secrets.toml"), 0o644);
    await runCli(["init", "--force"], { cwd });
    // overwritten, the secrets file is made its owner's alone again
    if (Deno.build.os !== "windows") assert.equal(await mode("secrets.toml"), 0o600);
    const info = await runCli(["info", "--json"], {
      cwd,
      env: { PIPELINES_DIR: join(cwd, "pipelines") },
    });
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).found, false);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("every command has help, and the main help lists them", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const main = await runCli(["--help"], { cwd });
    for (const name of ["run", "info", "trace", "show", "catalog", "init"]) {
      assert.match(main.stdout, new RegExp(`^  ${name} `, "m"));
      const help = await runCli([name, "--help"], { cwd });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^Usage: gitlab-pg ${name}`));
    }
    const bad = await runCli(["run", "--progress", "fancy"], { cwd });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Flag "--progress" takes "auto", "log" or "none", got "fancy"/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test({
  name: "the compile task's permissions are enough: catalog, run and info from another dir",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const task = denoJson.tasks.compile;
    assert.doesNotMatch(task, /(^| )(-A|--allow-all)( |$)/);
    const perms = task.split(/\s+/).filter((a) => a.startsWith("--allow-"));
    assert.ok(perms.length > 0);
    await using gitlab = await smallGitlab();
    const cwd = await Deno.makeTempDir();
    const env = { ...envFor(gitlab, cwd), NO_COLOR: "1" };
    const gitlabPg = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--no-prompt", ...perms, MAIN, ...args],
        cwd,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    try {
      const catalog = await gitlabPg(["catalog", "--json"]);
      assert.equal(catalog.code, 0, catalog.stderr);
      assert.ok(JSON.parse(catalog.stdout).some((r: { name: string }) => r.name === "issues"));
      const run = await gitlabPg(["run", "--resources", "issues"]);
      assert.equal(run.code, 0, run.stderr);
      const info = await gitlabPg(["info", "--json"]);
      assert.equal(info.code, 0, info.stderr);
      assert.equal(JSON.parse(info.stdout).state_source, "local");
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "Ctrl+C (SIGINT) or SIGTERM stops a run with a message, a FAILED trace and exit 130/143",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 40 },
      latencyMs: 100,
    });
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("sig");
    const env = projectsEnv(gitlab, gitlab.data.projects.map((p) => p.id), { dataset, cwd });
    try {
      for (
        const [signal, code, second] of [
          ["SIGINT", 130, undefined],
          ["SIGTERM", 143, undefined],
          // a second signal right after the first does not cut the message and trace short
          ["SIGINT", 130, "SIGTERM"],
        ] as const
      ) {
        const child = cliCommand(["run", "--resources", "issues,issue_notes"], { cwd, env })
          .spawn();
        const stderr = new Response(child.stderr).text();
        const stdout = new Response(child.stdout).text();
        // once it is reading GitLab
        const started = gitlab.requests.length;
        while (gitlab.requests.length < started + 3) await new Promise((r) => setTimeout(r, 20));
        child.kill(signal);
        if (second) {
          await new Promise((r) => setTimeout(r, 5));
          // the run may already have finished its message and trace and exited
          try {
            child.kill(second);
          } catch (e) {
            if (!(e instanceof TypeError && /already terminated/.test(e.message))) throw e;
          }
        }
        const status = await child.status;
        const err = await stderr;
        await stdout;
        assert.equal(status.code, code, err);
        assert.match(err, new RegExp(`error: interrupted \\(${signal}\\): .*next run resumes`));
        const trace = await runCli(["trace", "--json"], { cwd, env });
        const t = JSON.parse(trace.stdout);
        assert.equal(t.status, "failed");
        assert.match(JSON.stringify(t), new RegExp(`interrupted \\(${signal}\\)`));
      }
      // and the next run completes
      const again = await runCli(["run", "--resources", "issues,issue_notes"], { cwd, env });
      assert.equal(again.code, 0, again.stderr);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
