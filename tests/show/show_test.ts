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
import { type ShowProcess, startShow } from "./_show.ts";

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

async function checkApi(show: ShowProcess, want: Expected, loadId: string): Promise<void> {
  const url = show.origin;
  const getJson = async (url: string): Promise<Record<string, unknown>> => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${show.token}` } });
    assert.equal(res.status, 200, url);
    return await res.json();
  };
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
  // names are checked before they reach SQL, numbers are numbers
  for (
    const path of [
      `api/tables/${encodeURIComponent('issues" x')}/rows`,
      "api/tables/%E0%A4%A/rows",
      "api/tables/issues/rows?offset=Infinity",
      "api/tables/issues/rows?limit=1e3",
    ]
  ) {
    const bad = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${show.token}` },
    });
    assert.equal(bad.status, 400, path);
    await bad.body?.cancel();
  }
  // the any-column filter looks at the values, not at the row's text form ("(a,b)")
  for (const punctuation of ["(", ","]) {
    const found = await getJson(`${url}api/tables/issues__labels/rows?filter=${punctuation}`);
    assert.equal(found.total, 0, punctuation);
  }
  // (a random _dlt_id may hold "bug" too)
  const any = await getJson(`${url}api/tables/issues__labels/rows?filter=BUG`);
  assert.ok((any.total as number) >= want.bugLabels && (any.total as number) < want.labels);
}

/** One raw HTTP/1.1 GET (fetch would not send a foreign Host), its status code. */
async function rawStatus(port: number, path: string, headers: Record<string, string>) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = Object.entries({ connection: "close", ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${head}\r\n`));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return Number(/^HTTP\/1\.1 (\d+)/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1]);
  } finally {
    conn.close();
  }
}

/**
 * The server answers only its own user: the token (or the cookie the page sets) is needed,
 * a DNS-rebound name and other sites' requests are refused.
 */
async function checkAccess(show: ShowProcess): Promise<void> {
  const port = Number(new URL(show.origin).port);
  const api = `/api/tables/issues/rows?token=${show.token}`;
  const host = `127.0.0.1:${port}`;
  assert.equal(await rawStatus(port, api, { host }), 200);
  assert.equal(await rawStatus(port, api, { host: `localhost:${port}` }), 200);
  // another user or process of the machine, without the token
  assert.equal(await rawStatus(port, "/api/tables", { host }), 401);
  assert.equal(await rawStatus(port, "/", { host }), 401);
  assert.equal(await rawStatus(port, `/api/tables?token=${show.token}x`, { host }), 401);
  // a web page whose name was rebound to 127.0.0.1 (the browser sends its own name)
  assert.equal(await rawStatus(port, api, { host: `attacker.example:${port}` }), 403);
  // another site's page making the browser ask (an <img>, a form, fetch)
  assert.equal(await rawStatus(port, api, { host, "sec-fetch-site": "cross-site" }), 403);
  assert.equal(await rawStatus(port, api, { host, origin: "http://localhost:9999" }), 403);
  // the page comes with the token in its address, and sets no cookie (a cookie of 127.0.0.1
  // would go to every other server of the machine too): its script sends the token itself
  const page = await fetch(show.url);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("set-cookie"), null);
  assert.match(await page.text(), /authorization: "Bearer " \+ TOKEN/);
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
      await t.step("JSON API", () => checkApi(show, want, loadId));
      await t.step("only for the user who started it", () => checkAccess(show));
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
        await t.step(
          "info without a local state while PGlite is held says so, exit 0",
          async () => {
            // as during a first run: no state.json yet, the database open in the run
            const statePath = join(cwd, "pipelines", "gitlab_pipeline", "state.json");
            await Deno.rename(statePath, `${statePath}.aside`);
            try {
              const res = await runCli(["info", "--json"], { cwd, env });
              assert.equal(res.code, 0, res.stderr);
              const doc = JSON.parse(res.stdout);
              assert.equal(doc.state_source, "none");
              assert.match(doc.destination_busy, /another gitlab-pg process has it open/);
              assert.ok(doc.completed_packages.includes(loadId), res.stdout);
              const text = await runCli(["info"], { cwd, env });
              assert.equal(text.code, 0, text.stderr);
              assert.match(
                text.stdout,
                /^The state is not in the working dir yet and the embedded database is in use by another gitlab-pg process/,
              );
            } finally {
              await Deno.rename(`${statePath}.aside`, statePath);
            }
          },
        );
      }
    } finally {
      const stopped = await show.stop();
      assert.match(stopped.stderr, /the destination is closed/);
    }
    if (destination === "pglite") {
      // the handle was released: another process can open the data dir again
      const again = await runCli(["info", "--json"], { cwd, env });
      assert.equal(again.code, 0, again.stderr);
      // (projects: read in full each run, so there is a package to load; issues are incremental)
      const rerun = await runCli(["run", "--resources", "projects", "--json"], { cwd, env });
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

Deno.test({
  name: "show on a dataset that has no tables says so, and serves anyway",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("none");
    try {
      const show = await startShow([], {
        cwd,
        env: {
          DESTINATION__POSTGRES__CREDENTIALS: TEST_PG_URL,
          DATASET_NAME: dataset,
          PIPELINES_DIR: join(cwd, "p"),
        },
      });
      const stopped = await show.stop();
      assert.match(
        stopped.stderr,
        new RegExp(`WARNING: dataset ${dataset} has no tables in .*: run "gitlab-pg run" first`),
      );
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
