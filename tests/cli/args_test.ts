import assert from "node:assert/strict";
import { join } from "node:path";
import { intFlag, parseFlags } from "../../lib/cli/args.ts";
import { parseRefreshMode } from "../../lib/pipeline/refresh.ts";
import { runCli } from "../helpers/cli.ts";
import { UsageError } from "../../lib/common/errors.ts";

Deno.test("a flag without its value is named, with the command's help", () => {
  assert.throws(
    () => parseFlags("run", ["--limit"], { limit: { type: "string", description: "N" } }),
    (e: Error) =>
      e instanceof UsageError &&
      e.message ===
        'Flag "--limit" of "gitlab-pg run" needs a value (--limit VALUE); see "gitlab-pg run --help"',
  );
});

Deno.test("a value flag given twice or with an empty value is a usage error", () => {
  const flags = {
    resources: { type: "string" as const, description: "list" },
    limit: { type: "string" as const, description: "N" },
    json: { type: "boolean" as const, description: "JSON" },
  };
  assert.throws(
    () => parseFlags("run", ["--resources", "issues", "--resources", "projects"], flags),
    (e: Error) =>
      e instanceof UsageError &&
      e.message ===
        'Flag "--resources" of "gitlab-pg run" is given twice ("issues", then "projects"); give it once (it takes a comma-separated list)',
  );
  assert.throws(
    () => parseFlags("run", ["--limit=1", "--limit", "2"], flags),
    /^UsageError: Flag "--limit" of "gitlab-pg run" is given twice \("1", then "2"\); give it once$/,
  );
  for (const args of [["--resources", ""], ["--resources=  "], ["--limit="]]) {
    assert.throws(
      () => parseFlags("run", args, flags),
      /^UsageError: Flag "--(resources|limit)" of "gitlab-pg run" has an empty value/,
      args.join(" "),
    );
  }
  // one value each, booleans as often as wanted: fine
  const ok = parseFlags("run", ["--resources", "a,b", "--limit", "2", "--json", "--json"], flags);
  assert.deepEqual({ ...ok.values }, { resources: "a,b", limit: "2", json: true });
});

Deno.test("run --resources with an empty value (an unset shell variable) loads nothing and exits 2", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const res = await runCli(["run", "--resources", ""], { cwd, env: {} });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /Flag "--resources" of "gitlab-pg run" has an empty value/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("--refresh lists its values as a sentence", () => {
  assert.throws(
    () => parseRefreshMode("all"),
    /^UsageError: Flag "--refresh" takes "drop_sources", "drop_resources" or "drop_data", got "all"$/,
  );
});

Deno.test("init into another folder says to go there before running", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const res = await runCli(["init", "--dir", "newproj"], { cwd, env: {} });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /then cd newproj, run "gitlab-pg run"$/m);
    const here = await runCli(["init"], { cwd: join(cwd, "newproj"), env: {} });
    assert.match(here.stdout + here.stderr, /then run "gitlab-pg run"|exists/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("run --json prints its JSON document for a run that fails before it starts", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const res = await runCli(["run", "--json", "--progress", "bogus"], { cwd, env: {} });
    assert.equal(res.code, 2, res.stderr);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.status, "failed");
    assert.equal(doc.exit_code, 2);
    assert.equal(doc.pipeline_name, "gitlab_pipeline");
    assert.match(doc.error, /--progress/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("run --json prints its JSON document when the command line itself is wrong", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    for (
      const args of [
        ["run", "--json", "--bogus"],
        ["run", "--limit", "--json"],
        ["run", "--json=true", "--resources", "a", "--resources", "b"],
      ]
    ) {
      const res = await runCli(args, { cwd, env: {} });
      assert.equal(res.code, 2, res.stderr);
      const doc = JSON.parse(res.stdout);
      assert.equal(doc.status, "failed", args.join(" "));
      assert.equal(doc.exit_code, 2);
      assert.match(doc.error, /Flag|flag/);
      assert.match(res.stderr, /^error: /);
    }
    // without --json (or with it only after "--"), stdout stays empty
    const plain = await runCli(["run", "--bogus", "--", "--json"], { cwd, env: {} });
    assert.equal(plain.code, 2);
    assert.equal(plain.stdout, "");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("run --json on a config error names the pipeline, unless its name is the problem", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(cwd, ".dlt"));
    const toml = join(cwd, ".dlt", "config.toml");
    await Deno.writeTextFile(toml, `dataset_name = "raw"\n[sources.gitlab]\nconcurrency = "x"\n`);
    const res = await runCli(["run", "--json"], { cwd, env: { PIPELINE_NAME: "nightly" } });
    assert.equal(res.code, 2, res.stderr);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.status, "failed");
    assert.match(doc.error, /sources\.gitlab\.concurrency/);
    assert.equal(doc.pipeline_name, "nightly");
    assert.equal(doc.dataset_name, "raw");
    // an invalid name is not replaced by the default
    await Deno.writeTextFile(toml, `pipeline_name = 3\n`);
    const bad = JSON.parse((await runCli(["run", "--json"], { cwd, env: {} })).stdout);
    assert.equal(bad.pipeline_name, null);
    assert.equal(bad.dataset_name, "gitlab_data");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a mistyped subcommand word is suggested, and run's arguments point at --resources", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const chek = await runCli(["catalog", "chek", "a.yaml"], { cwd, env: {} });
    assert.equal(chek.code, 2);
    assert.match(
      chek.stderr,
      /Unknown argument "chek" .*did you mean "gitlab-pg catalog check a\.yaml"\?/,
    );
    const other = await runCli(["catalog", "zzz"], { cwd, env: {} });
    assert.equal(other.code, 2);
    assert.doesNotMatch(other.stderr, /did you mean/);
    assert.match(other.stderr, /; see "gitlab-pg catalog --help"\n$/);
    const nofile = await runCli(["catalog", "check"], { cwd, env: {} });
    assert.equal(nofile.code, 2);
    assert.match(
      nofile.stderr,
      /needs a FILE \(a catalog YAML, or "seed"\); see "gitlab-pg catalog --help"/,
    );
    // a flag before the command is told to go after it
    const early = await runCli(["--json", "run"], { cwd, env: {} });
    assert.equal(early.code, 2);
    assert.match(
      early.stderr,
      /Flag "--json" comes before the command: give it after, as in "gitlab-pg run --json"/,
    );
    const run = await runCli(["run", "issues", "commits"], { cwd, env: {} });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /takes no arguments, got "issues" \(to run only some resources: --resources issues,commits\)/,
    );
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("intFlag() words its range the same for too small and too large", () => {
  assert.equal(intFlag("concurrency", "256", 256), 256);
  for (const value of ["0", "300", "-1", "x"]) {
    assert.throws(
      () => intFlag("concurrency", value, 256),
      (e: Error) =>
        e instanceof UsageError &&
        e.message === `Flag "--concurrency" takes a whole number from 1 to 256, got "${value}"`,
    );
  }
  assert.throws(() => intFlag("limit", "0"), /takes a whole number of at least 1, got "0"/);
});
