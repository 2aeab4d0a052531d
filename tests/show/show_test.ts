/**
 * `gitlab-pg show` end to end: load a dataset with `main.ts run` from the fake GitLab, start
 * `main.ts show` as a subprocess, check its JSON API, then drive the page in headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core): navigate tables, open a child table,
 * filter sample rows, read the load history, take a screenshot. Against Postgres and PGlite.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeGitlab, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { runCli } from "../helpers/cli.ts";
import { dropDataset, pgIgnore, TEST_PG_URL, uniqueDataset } from "../helpers/postgres.ts";
import { startShow } from "./_show.ts";

const CHROMIUM = "/usr/bin/chromium";
const BROWSER = new URL("./_browser.ts", import.meta.url).pathname;
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  console.warn(
    `SKIPPED the show page tests in Chromium: ${CHROMIUM} is missing (apt-get install chromium)`,
  );
}

interface Expected {
  issues: number;
  labels: number;
  /** issues__labels rows whose value contains "bug". */
  bugLabels: number;
}

function expected(gitlab: FakeGitlab): Expected {
  const issues = [...gitlab.data.issues.values()].flat();
  const labels = issues.flatMap((i) => (i.labels ?? []) as string[]);
  return {
    issues: issues.length,
    labels: labels.length,
    bugLabels: labels.filter((l) => l.toLowerCase().includes("bug")).length,
  };
}

async function load(env: Record<string, string>, cwd: string): Promise<string> {
  const res = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout).load_packages[0].load_id;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return await res.json();
}

async function checkApi(url: string, want: Expected, loadId: string): Promise<void> {
  const { tables } = await getJson(`${url}api/tables`) as {
    tables: { name: string; parent: string | null; rows: number; columns: { name: string }[] }[];
  };
  const byName = new Map(tables.map((t) => [t.name, t]));
  assert.equal(byName.get("issues")?.rows, want.issues);
  assert.equal(byName.get("issues__labels")?.parent, "issues");
  assert.equal(byName.get("issues__labels")?.rows, want.labels);
  assert.ok(byName.get("issues")!.columns.some((c) => c.name === "_dlt_load_id"));
  const rows = await getJson(`${url}api/tables/issues__labels/rows?filter=BUG&column=value`);
  assert.equal(rows.total, want.bugLabels);
  const page = await getJson(`${url}api/tables/issues/rows?limit=3&offset=1`);
  assert.equal((page.rows as unknown[]).length, 3);
  const { loads } = await getJson(`${url}api/loads`) as { loads: { load_id: string }[] };
  assert.deepEqual(loads.map((l) => l.load_id), [loadId]);
  const schema = await getJson(`${url}api/schema`) as { versions: unknown[] };
  assert.ok(schema.versions.length >= 1);
  const state = await getJson(`${url}api/state`) as { state: { pipeline_name: string } };
  assert.equal(state.state.pipeline_name, "gitlab_pipeline");
  // names are checked before they reach SQL
  const bad = await fetch(`${url}api/tables/${encodeURIComponent('issues" x')}/rows`);
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
}

/**
 * Runs the page check in its own `deno run -A` process: playwright-core probes paths such as
 * /proc/sys/fs/binfmt_misc when it loads, which Deno grants only with --allow-all.
 */
async function checkPage(url: string, want: Expected, loadId: string, shot: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", BROWSER, JSON.stringify({ url, want, loadId, shot })],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  const png = await Deno.readFile(shot);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
}

async function scenario(
  t: Deno.TestContext,
  destination: "postgres" | "pglite",
  dataset: string,
): Promise<void> {
  await using gitlab = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 1, projectsPerGroup: 2, issuesPerProject: 30 },
  });
  const cwd = await Deno.makeTempDir();
  const group = gitlab.data.groups.find((g) => g.parent_id === null)!.full_path;
  const env: Record<string, string> = {
    SOURCES__GITLAB__BASE_URL: gitlab.url,
    SOURCES__GITLAB__API_KEY: "glpat-test",
    SOURCES__GITLAB__GROUPS: JSON.stringify([group]),
    PIPELINES_DIR: join(cwd, "pipelines"),
    DATASET_NAME: dataset,
    ...(destination === "postgres" ? { DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL } : {}),
  };
  try {
    const loadId = await load(env, cwd);
    const want = expected(gitlab);
    assert.ok(want.bugLabels > 0 && want.bugLabels < want.labels, JSON.stringify(want));
    const show = await startShow([], { cwd, env });
    try {
      await t.step("JSON API", () => checkApi(show.url, want, loadId));
      await t.step({
        name: "page in headless Chromium",
        ignore: !hasChromium,
        fn: () =>
          checkPage(
            show.url,
            want,
            loadId,
            join(Deno.env.get("SCREENSHOT_DIR") ?? cwd, `show-${destination}.png`),
          ),
      });
      if (destination === "pglite") {
        await t.step("a run while show holds PGlite fails at once, loading nothing", async () => {
          // PGlite has no lock of its own: this run's load used to vanish
          const res = await runCli(["run", "--resources", "issues"], { cwd, env });
          assert.equal(res.code, 1, res.stderr);
          assert.match(res.stderr, /another gitlab-pg process has it open \(a `gitlab-pg show`/);
        });
      }
    } finally {
      const stopped = await show.stop();
      assert.match(stopped.stderr, /the destination is closed/);
    }
    if (destination === "pglite") {
      // the handle was released: another process can open the data dir again
      const again = await runCli(["info", "--json"], { cwd, env });
      assert.equal(again.code, 0, again.stderr);
      const rerun = await runCli(["run", "--resources", "issues", "--json"], { cwd, env });
      assert.equal(rerun.code, 0, rerun.stderr);
      const loads = JSON.parse((await runCli(["info", "--json"], { cwd, env })).stdout);
      assert.ok(JSON.stringify(loads).includes(JSON.parse(rerun.stdout).load_packages[0].load_id));
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test({
  name: "show serves the PGlite dataset: tree, child table, filter, load history",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => scenario(t, "pglite", "gitlab_data"),
});

Deno.test({
  name: "show serves the Postgres dataset: tree, child table, filter, load history",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dataset = uniqueDataset("show");
    try {
      await scenario(t, "postgres", dataset);
    } finally {
      await dropDataset(dataset);
    }
  },
});
