/**
 * End to end: incremental loading. `main.ts run` as a subprocess against the fake GitLab, into
 * the real Postgres: a rerun asks only for what changed, and a fresh working dir continues from
 * the state stored in the destination.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FakeGitlab, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { decompressState } from "../../lib/pipeline/state.ts";
import { runCli } from "../helpers/cli.ts";
import { dropDataset, pgIgnore, pgQuery, projectsEnv, uniqueDataset } from "../helpers/postgres.ts";

function projectsOf(gitlab: FakeGitlab): [number, number] {
  const ids = gitlab.data.projects.map((p) => p.id).sort((a, b) => a - b);
  return [ids[0], ids[1]];
}

/** Requests of `since` on, to a path matching `re`. */
function requestsTo(gitlab: FakeGitlab, since: number, re: RegExp) {
  return gitlab.requests.slice(since).filter((r) => re.test(r.apiPath ?? ""));
}

async function count(dataset: string, table: string): Promise<number> {
  const rows = await pgQuery<{ n: string }>(
    `SELECT count(*)::text AS n FROM "${dataset}"."${table}"`,
  );
  return Number(rows[0].n);
}

Deno.test({
  name: "a rerun fetches only changed issues and their notes; a fresh working dir continues",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 6 },
    });
    const [a, b] = projectsOf(gitlab);
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("inc");
    const pipelines = join(cwd, "pipelines");
    const env = projectsEnv(gitlab, [a, b], { dataset, cwd });
    const args = ["run", "--json", "--resources", "issues,issue_notes"];
    const allIssues = () => [a, b].flatMap((p) => gitlab.data.issues.get(p) ?? []);
    const allNotes = () =>
      allIssues().reduce((n, i) => n + (gitlab.data.issueNotes.get(i.id) ?? []).length, 0);
    try {
      const first = await runCli(args, { cwd, env });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(await count(dataset, "issues"), 12);
      assert.equal(await count(dataset, "issue_notes"), allNotes());

      // N = 2 updated issues in project a, M = 3 new issues in project b
      gitlab.advance(60_000);
      gitlab.updateIssue(a, 2, { title: "changed 2" });
      gitlab.updateIssue(a, 4, { title: "changed 4" });
      for (let i = 0; i < 3; i++) gitlab.addIssue(b, { title: `new ${i}` });
      const before = gitlab.requests.length;
      const second = await runCli(args, { cwd, env });
      assert.equal(second.code, 0, second.stderr);
      const info = JSON.parse(second.stdout);
      assert.equal(info.load_packages.at(-1).rows.issues, 5, "only changed issues are written");

      // issue lists were asked with updated_after = the project's own cursor
      const issueLists = requestsTo(gitlab, before, /^\/projects\/\d+\/issues$/);
      assert.equal(issueLists.length, 2);
      for (const r of issueLists) {
        const pid = Number(r.apiPath!.split("/")[2]);
        const first = (gitlab.data.issues.get(pid) ?? []).filter((i) =>
          !String(i.title).startsWith("new")
        );
        const cursor = first.map((i) => i.updated_at).sort().at(-1);
        assert.ok(r.query.updated_after, `updated_after sent for project ${pid}`);
        assert.ok(r.query.updated_after <= cursor!, `cursor of project ${pid}`);
        assert.equal(r.query.order_by, "updated_at");
      }
      // notes only of the 5 changed issues (GitLab has no time filter on notes)
      const noteLists = requestsTo(gitlab, before, /\/issues\/\d+\/notes$/);
      assert.equal(noteLists.length, 5, noteLists.map((r) => r.apiPath).join(", "));

      assert.equal(await count(dataset, "issues"), 15);
      assert.equal(await count(dataset, "issue_notes"), allNotes());
      const titles = await pgQuery<{ title: string }>(
        `SELECT title FROM "${dataset}".issues WHERE project_id = $1 AND iid IN (2, 4) ORDER BY iid`,
        [a],
      );
      assert.deepEqual(titles.map((t) => t.title), ["changed 2", "changed 4"]);
      // one row per key, none from an incomplete load
      const dupes = await pgQuery<{ n: string }>(
        `SELECT count(*)::text AS n FROM (SELECT id FROM "${dataset}".issues GROUP BY id HAVING count(*) > 1) d`,
      );
      assert.equal(Number(dupes[0].n), 0);

      // the state in the destination holds one cursor per project, in dlt's layout
      const states = await pgQuery<{ state: string }>(
        `SELECT s.state FROM "${dataset}"._dlt_pipeline_state s JOIN "${dataset}"._dlt_loads l
         ON l.load_id = s._dlt_load_id ORDER BY l.load_id DESC LIMIT 1`,
      );
      const state = decompressState(states[0].state);
      const per = state.sources!.gitlab.resources!.issues.incremental_per_parent as Record<
        string,
        Record<string, { last_value: string; unique_hashes: string[] }>
      >;
      assert.deepEqual(Object.keys(per).sort(), [String(a), String(b)].sort());
      const maxA = (gitlab.data.issues.get(a) ?? []).map((i) => i.updated_at).sort().at(-1);
      assert.equal(per[String(a)].updated_at.last_value, maxA);
      assert.ok(per[String(a)].updated_at.unique_hashes.length >= 1);

      // a fresh container: no working dir; state is restored from the destination
      await Deno.remove(pipelines, { recursive: true });
      gitlab.advance(60_000);
      gitlab.updateIssue(b, 1, { title: "changed again" });
      const mark = gitlab.requests.length;
      const third = await runCli(args, { cwd, env: { ...env, RUNTIME__LOG_LEVEL: "INFO" } });
      assert.equal(third.code, 0, third.stderr);
      assert.match(
        third.stderr,
        /Restored state of pipeline "gitlab_pipeline" from the destination/,
      );
      assert.equal(JSON.parse(third.stdout).load_packages.at(-1).rows.issues, 1);
      assert.equal(requestsTo(gitlab, mark, /\/issues\/\d+\/notes$/).length, 1);
      assert.equal(await count(dataset, "issues"), 15);
      assert.equal(await count(dataset, "issue_notes"), allNotes());

      // nothing changed: nothing written, no notes fetched, and (as dlt drops a package
      // without jobs) no load and no _dlt_loads row
      const quiet = gitlab.requests.length;
      const loads = await count(dataset, "_dlt_loads");
      const fourth = await runCli(args, { cwd, env });
      assert.equal(fourth.code, 0, fourth.stderr);
      assert.deepEqual(JSON.parse(fourth.stdout).load_packages, []);
      assert.equal(await count(dataset, "_dlt_loads"), loads);
      assert.equal(requestsTo(gitlab, quiet, /\/issues\/\d+\/notes$/).length, 0);
      assert.equal(await count(dataset, "issues"), 15);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "start_date bounds the first run and --refresh drop_data reloads from it",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 8 },
    });
    const [a] = projectsOf(gitlab);
    const issues = gitlab.data.issues.get(a)!;
    const sorted = issues.map((i) => i.updated_at).sort();
    const startDate = sorted[4]; // issues updated at or after it: 4
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("inc");
    const env = {
      ...projectsEnv(gitlab, [a], { dataset, cwd }),
      SOURCES__GITLAB__START_DATE: startDate,
    };
    const args = ["run", "--resources", "issues"];
    try {
      const first = await runCli(args, { cwd, env });
      assert.equal(first.code, 0, first.stderr);
      const expected = sorted.filter((u) => u >= startDate).length;
      assert.equal(await count(dataset, "issues"), expected);
      const r = gitlab.requests.find((x) => /\/issues$/.test(x.apiPath ?? ""))!;
      assert.equal(r.query.updated_after, startDate);

      const refreshed = await runCli([...args, "--refresh", "drop_data"], { cwd, env });
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.equal(await count(dataset, "issues"), expected);
      const bad = await runCli([...args, "--refresh", "drop_everything"], { cwd, env });
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /Flag "--refresh" takes "drop_sources", "drop_resources" or "drop_data", got "drop_everything"/,
      );
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "an issue updated while its pages are read is loaded by the next run, and none is lost",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // offset pages of issues by updated_at: the oldest issue is edited just before page 2 is
    // asked for. Newest first (the catalog's order) it moves to page 1, already read: run 1
    // misses it, run 2 (updated_after the cursor) gets it. Oldest first it would move to the
    // end and push the first issue of page 2 back onto page 1, never read and behind the cursor.
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 150 },
    });
    const pid = gitlab.data.projects[0].id;
    const oldest = [...gitlab.data.issues.get(pid)!].sort((x, y) =>
      x.updated_at < y.updated_at ? -1 : x.updated_at > y.updated_at ? 1 : x.id - y.id
    )[0];
    let edited = false;
    gitlab.faults.push({
      kind: "delay",
      ms: 0,
      match: (r) => {
        if (
          !edited && r.path === `/projects/${pid}/issues` && r.url.searchParams.get("page") === "2"
        ) {
          edited = true;
          gitlab.advance(1000);
          gitlab.updateIssue(pid, oldest.iid, { title: "edited during the run" });
        }
        return false; // never delays: the match only edits the issue at the right moment
      },
    });
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("shift");
    const env = projectsEnv(gitlab, [pid], { dataset, cwd });
    try {
      for (const _ of [1, 2]) {
        const res = await runCli(["run", "--resources", "issues"], { cwd, env });
        assert.equal(res.code, 0, res.stderr);
      }
      assert.ok(edited, "page 2 was asked for");
      assert.equal(await count(dataset, "issues"), 150);
      const title = await pgQuery<{ title: string }>(
        `SELECT title FROM "${dataset}".issues WHERE id = ${oldest.id}`,
      );
      assert.deepEqual(
        title.map((t) =>
          t.title
        ),
        ["edited during the run"],
      );
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a run of a child alone leaves its parent's cursor: the parent's run later loads them all",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 2, issuesPerProject: 6 },
    });
    const [a, b] = projectsOf(gitlab);
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("incp");
    const env = projectsEnv(gitlab, [a, b], { dataset, cwd });
    try {
      // issues are read to find their notes, but not loaded
      const notes = await runCli(["run", "--resources", "issue_notes"], { cwd, env });
      assert.equal(notes.code, 0, notes.stderr);
      assert.ok(await count(dataset, "issue_notes") > 0);
      // the issues cursor did not move past them: all 12 load now (before: none, for good)
      const issues = await runCli(["run", "--resources", "issues"], { cwd, env });
      assert.equal(issues.code, 0, issues.stderr);
      assert.equal(await count(dataset, "issues"), 12);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a run cut short by --limit keeps the cursor: the next run loads what it left unread",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using gitlab = await startFakeGitlab({
      size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 350 },
    });
    const [a] = projectsOf(gitlab);
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("lim");
    const env = projectsEnv(gitlab, [a], { dataset, cwd });
    try {
      // newest first, 100 a page: page 1 holds the newest 100
      const cut = await runCli(["run", "--json", "--resources", "issues", "--limit", "1"], {
        cwd,
        env,
      });
      assert.equal(cut.code, 0, cut.stderr);
      assert.equal(await count(dataset, "issues"), 100);
      assert.match(cut.stderr, /--limit stopped resource "issues" before its last page/);
      assert.ok(
        JSON.parse(cut.stdout).warnings.some((w: string) => w.startsWith("--limit stopped")),
      );
      // pages 2.. asked ahead (x-total-pages 4): the limit still keeps the cursor
      const two = await runCli(["run", "--json", "--resources", "issues", "--limit", "2"], {
        cwd,
        env,
      });
      assert.equal(two.code, 0, two.stderr);
      assert.equal(await count(dataset, "issues"), 200);
      assert.match(two.stderr, /--limit stopped resource "issues" before its last page/);
      // before, the cursor moved to the newest issue and the others were never loaded
      const rest = await runCli(["run", "--json", "--resources", "issues"], { cwd, env });
      assert.equal(rest.code, 0, rest.stderr);
      assert.equal(await count(dataset, "issues"), 350);
      // a limit that reads every page moves the cursor as usual, without a warning
      const all = await runCli(["run", "--json", "--resources", "issues", "--limit", "5"], {
        cwd,
        env,
      });
      assert.doesNotMatch(all.stderr, /--limit stopped/);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "a child cut short by --limit keeps its parent's cursor: the next run reads the rest",
  ignore: pgIgnore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // 3 issues with 150 notes each: --limit 1 reads one page of 100 notes per issue
    await using gitlab = await startFakeGitlab({
      size: {
        groups: 1,
        subgroupsPerGroup: 0,
        projectsPerGroup: 1,
        issuesPerProject: 3,
        notesPerIssue: 150,
      },
    });
    const [a] = projectsOf(gitlab);
    const cwd = await Deno.makeTempDir();
    const dataset = uniqueDataset("limc");
    const env = projectsEnv(gitlab, [a], { dataset, cwd });
    const resources = ["--resources", "issues,issue_notes"];
    try {
      const cut = await runCli(["run", "--json", ...resources, "--limit", "1"], { cwd, env });
      assert.equal(cut.code, 0, cut.stderr);
      assert.equal(await count(dataset, "issues"), 3);
      assert.equal(await count(dataset, "issue_notes"), 300);
      assert.match(
        cut.stderr,
        /--limit stopped resource "issue_notes" before its last page: the incremental cursor of "issues" stays/,
      );
      // before, the issues cursor moved past the 3 issues: their other notes were never read
      const rest = await runCli(["run", "--json", ...resources], { cwd, env });
      assert.equal(rest.code, 0, rest.stderr);
      assert.equal(await count(dataset, "issue_notes"), 450);
      assert.doesNotMatch(rest.stderr, /--limit stopped/);
      // and now the cursor moved: nothing new
      const again = await runCli(["run", "--json", ...resources], { cwd, env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).load_packages.length, 0);
    } finally {
      await dropDataset(dataset);
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
