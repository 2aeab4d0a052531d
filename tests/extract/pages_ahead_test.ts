/**
 * Pages of a GitLab offset-paginated series are requested ahead and written in page order: a
 * window at a time when the series tells its page count; when it does not (commits, lists past
 * 10,000 records), a window that grows with the pages shown, only while the rate limit has
 * budget to spare, the pages past the end dropped. Every other series pages one by one.
 */
import assert from "node:assert/strict";
import { HttpError } from "../../lib/common/errors.ts";
import type { ResolvedResource } from "../../lib/catalog/types.ts";
import { type FakeGitlab, type RequestLogEntry, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { catalog, GITLAB, resource, run } from "./_helpers.ts";
import type { HttpRequest, HttpResponse } from "../../lib/extract/http_client.ts";
import { AheadBudget, GUESS_RATIO, PagesAhead } from "../../lib/extract/pages_ahead.ts";

const DELAY = 400;

/** Issues of project 1 as a root resource, `per_page` 2 (20 issues: 10 pages). */
const projectIssues = (over: Partial<ResolvedResource> = {}): ResolvedResource =>
  resource("issues", {
    paginator: GITLAB,
    endpoint: {
      method: "GET",
      path: "projects/1/issues",
      params: { per_page: 2, scope: "all" },
    },
    ...over,
  });

const size = { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1, issuesPerProject: 20 };

/** Requests of `path` (ending), by `page` (1 when absent). */
function pageRequests(gitlab: FakeGitlab, path: string): Map<number, RequestLogEntry> {
  const out = new Map<number, RequestLogEntry>();
  for (const r of gitlab.requests) {
    if (r.apiPath?.endsWith(path)) out.set(Number(r.query.page ?? 1), r);
  }
  return out;
}

/** Holds the answer to page 2 of `path` for {@linkcode DELAY} ms. */
function delayPage2(gitlab: FakeGitlab, path: string): void {
  gitlab.faults.push({
    kind: "delay",
    ms: DELAY,
    match: (r) => r.path.endsWith(path) && r.url.searchParams.get("page") === "2",
  });
}

Deno.test("pages 2 to the last of an offset series are requested ahead and written in page order", async () => {
  await using gitlab = await startFakeGitlab({ size });
  delayPage2(gitlab, "/issues");
  const { jobs, info } = await run(catalog([projectIssues()]), gitlab.url);
  const pages = pageRequests(gitlab, "/projects/1/issues");
  assert.deepEqual([...pages.keys()].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // page 3 was asked for while page 2 was held: only a request sent ahead can do that
  assert.ok(pages.get(3)!.at < pages.get(2)!.at + DELAY / 2, "page 3 waited for page 2");
  assert.equal(info.resources.issues.pages, 10);
  // the records are those of a sequential run, in the same order
  const sequential = await run(catalog([projectIssues()]), gitlab.url, { concurrency: 1 });
  assert.deepEqual(jobs.issues, sequential.jobs.issues);
  assert.equal(jobs.issues.length, 20);
  assert.equal(new Set(jobs.issues.map((i) => i.id)).size, 20);
});

Deno.test("with concurrency 1 the pages go one at a time", async () => {
  await using gitlab = await startFakeGitlab({ size });
  delayPage2(gitlab, "/issues");
  await run(catalog([projectIssues()]), gitlab.url, { concurrency: 1 });
  const pages = pageRequests(gitlab, "/projects/1/issues");
  assert.ok(pages.get(3)!.at >= pages.get(2)!.at + DELAY - 5);
});

Deno.test("series without a page count, with keyset links, with row_order or dlt's paginators page one by one", async (t) => {
  const cases: [string, ResolvedResource, string][] = [
    [
      "dlt's header_link paginator",
      projectIssues({ paginator: { type: "header_link" } }),
      "/issues",
    ],
    [
      "an incremental cursor with row_order (it may stop early)",
      projectIssues({
        endpoint: {
          method: "GET",
          path: "projects/1/issues",
          params: { per_page: 2, scope: "all", order_by: "updated_at", sort: "desc" },
          incremental: { cursor_path: "updated_at", row_order: "desc" },
        },
      }),
      "/issues",
    ],
    [
      "keyset pagination (no page numbers in its links)",
      resource("projects", {
        paginator: GITLAB,
        endpoint: {
          method: "GET",
          path: "projects",
          params: { per_page: 2, pagination: "keyset", order_by: "id", sort: "asc" },
        },
      }),
      "/projects",
    ],
    [
      "the first pages of commits (no x-total-pages: the window grows with the pages shown)",
      resource("commits", {
        paginator: GITLAB,
        endpoint: { method: "GET", path: "projects/1/repository/commits", params: { per_page: 2 } },
      }),
      "/repository/commits",
    ],
  ];
  for (const [name, r, path] of cases) {
    await t.step(name, async () => {
      await using gitlab = await startFakeGitlab({
        size: { ...size, commitsPerProject: 20, projectsPerGroup: 8 },
      });
      gitlab.faults.push({
        kind: "delay",
        ms: DELAY,
        match: (q) =>
          q.path.endsWith(path) &&
          gitlab.requests.filter((x) => x.apiPath?.endsWith(path)).length === 2,
      });
      const { jobs } = await run(catalog([r]), gitlab.url);
      assert.ok(Object.values(jobs)[0].length >= 6);
      const seen = gitlab.requests.filter((x) => x.apiPath?.endsWith(path));
      assert.ok(seen.length >= 3, `${seen.length} requests`);
      assert.ok(seen[2].at >= seen[1].at + DELAY - 5, "the third page was asked for ahead");
    });
  }
});

Deno.test("a page limit is never exceeded by the pages asked ahead", async () => {
  await using gitlab = await startFakeGitlab({ size });
  const { jobs } = await run(catalog([projectIssues()]), gitlab.url, { limit: 4 });
  assert.deepEqual([...pageRequests(gitlab, "/projects/1/issues").keys()], [1, 2, 3, 4]);
  assert.equal(jobs.issues.length, 8);
});

Deno.test("a page asked ahead that fails fails the run at that page, with nothing left running", async () => {
  await using gitlab = await startFakeGitlab({ size });
  gitlab.faults.push({
    kind: "status",
    status: 400,
    match: (r) => r.path.endsWith("/issues") && r.url.searchParams.get("page") === "4",
  });
  const err = await run(catalog([projectIssues()]), gitlab.url).then(() => undefined, (e) => e);
  assert.ok(err instanceof HttpError, String(err));
  assert.match(err.message, /400 Bad Request.*page=4/);
  assert.equal(err.status, 400);
  // (the test's op sanitizer fails it if a request sent ahead were still running)
});

Deno.test("when the list grows while its pages are read, the last page's link is followed", async () => {
  await using gitlab = await startFakeGitlab({ size });
  // page 10 is answered after two issues were added (newest first: every page shifts by one)
  gitlab.faults.push({
    kind: "delay",
    ms: DELAY,
    match: (r) => r.path.endsWith("/issues") && r.url.searchParams.get("page") === "10",
  });
  const grow = setTimeout(() => {
    gitlab.addIssue(1);
    gitlab.addIssue(1);
  }, DELAY / 2);
  try {
    const { jobs } = await run(catalog([projectIssues()]), gitlab.url);
    const pages = pageRequests(gitlab, "/projects/1/issues");
    assert.deepEqual([...pages.keys()].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // the 20 issues there were at the start are all read (some twice, as a sequential run would)
    const ids = new Set(jobs.issues.map((i) => i.id));
    for (const issue of gitlab.data.issues.get(1)!.slice(0, 20)) assert.ok(ids.has(issue.id));
  } finally {
    clearTimeout(grow);
  }
});

Deno.test("pages asked ahead by all series together stay within the run's budget, and come in order", async () => {
  const started: string[] = [];
  const waiting = new Map<string, (r: HttpResponse) => void>();
  const fetch = (req: HttpRequest) => {
    started.push(req.url);
    return new Promise<HttpResponse>((resolve) => waiting.set(req.url, resolve));
  };
  const answer = (url: string) =>
    waiting.get(url)!({ url, body: [url] } as unknown as HttpResponse);
  const pages = (series: string) =>
    Array.from({ length: 5 }, (_, i) => ({ url: `${series}${i + 2}` } as HttpRequest));
  const budget = new AheadBudget(3);
  const a = new PagesAhead(fetch, pages("a"), { window: 16, budget });
  const b = new PagesAhead(fetch, pages("b"), { window: 16, budget });
  // a took the whole budget: b asks nothing ahead (and does not wait for a place)
  assert.deepEqual(started, ["a2", "a3", "a4"]);
  // b's turn comes: its page is asked for then
  const b2 = b.next();
  assert.deepEqual(started, ["a2", "a3", "a4", "b2"]);
  answer("b2");
  assert.equal((await b2)?.url, "b2");
  // a page taken frees a place, which the next asker uses
  const a2 = a.next();
  answer("a2");
  assert.equal((await a2)?.url, "a2");
  assert.equal(started.at(-1), "a5");
  for (const url of ["a3", "a4", "a5"]) answer(url);
  for (const url of ["a3", "a4", "a5"]) assert.equal((await a.next())?.url, url);
  const a6 = a.next();
  answer("a6");
  assert.equal((await a6)?.url, "a6");
  assert.ok(a.done);
  await b.settle();
  // every place is back: three new pages go out at once
  const c = new PagesAhead(fetch, pages("c"), { window: 16, budget });
  assert.deepEqual(started.slice(-3), ["c2", "c3", "c4"]);
  for (const url of ["c2", "c3", "c4"]) answer(url);
  await c.settle();
});

Deno.test("after a page asked ahead fails, no more pages are asked for and its place is back", async () => {
  const started: string[] = [];
  const answers = new Map<string, { ok: (r: HttpResponse) => void; fail: (e: Error) => void }>();
  const fetch = (req: HttpRequest) => {
    started.push(req.url);
    return new Promise<HttpResponse>((ok, fail) => answers.set(req.url, { ok, fail }));
  };
  const budget = new AheadBudget(2);
  const pages = Array.from({ length: 5 }, (_, i) => ({ url: `p${i + 2}` } as HttpRequest));
  const a = new PagesAhead(fetch, pages, { window: 2, budget });
  assert.deepEqual(started, ["p2", "p3"]);
  const first = a.next();
  answers.get("p2")!.fail(new Error("HTTP 500"));
  await assert.rejects(first, /HTTP 500/);
  assert.deepEqual(started, ["p2", "p3"]);
  answers.get("p3")!.ok({ url: "p3" } as unknown as HttpResponse);
  await a.settle();
  // both places are free again
  const b = new PagesAhead(fetch, pages, { window: 5, budget });
  assert.deepEqual(started.slice(2), ["p2", "p3"]);
  for (const url of ["p2", "p3"]) answers.get(url)!.ok({ url } as unknown as HttpResponse);
  await b.settle();
});

/** Commits of project 1 as a root resource, `per_page` 2. */
const projectCommits = () =>
  resource("commits", {
    paginator: GITLAB,
    endpoint: { method: "GET", path: "projects/1/repository/commits", params: { per_page: 2 } },
  });

const COMMIT_PAGES = 60;
const commitsSize = { ...size, commitsPerProject: COMMIT_PAGES * 2 };

Deno.test("a series without a page count has its pages asked ahead as it shows its length; the pages past its end are dropped", async () => {
  await using gitlab = await startFakeGitlab({ size: commitsSize });
  const held = 40;
  gitlab.faults.push({
    kind: "delay",
    ms: DELAY,
    match: (r) =>
      r.path.endsWith("/repository/commits") && r.url.searchParams.get("page") === String(held),
  });
  const { jobs, info } = await run(catalog([projectCommits()]), gitlab.url);
  const pages = pageRequests(gitlab, "/repository/commits");
  // page 41 was asked for while page 40 was held: only a request sent ahead can do that
  assert.ok(pages.get(held + 1)!.at < pages.get(held)!.at + DELAY / 2, "page 41 waited");
  // the pages past the end: at most a quarter of the series' pages, none of them written
  const past = [...pages.keys()].filter((p) => p > COMMIT_PAGES);
  assert.ok(past.length <= COMMIT_PAGES / GUESS_RATIO, `${past.length} pages past the end`);
  assert.equal(info.resources.commits.pages, COMMIT_PAGES);
  const sequential = await run(catalog([projectCommits()]), gitlab.url, { concurrency: 1 });
  assert.deepEqual(jobs.commits, sequential.jobs.commits);
  assert.equal(jobs.commits.length, COMMIT_PAGES * 2);
});

Deno.test("a series without a page count asks nothing ahead under a configured rate", async () => {
  await using gitlab = await startFakeGitlab({ size: commitsSize });
  const { jobs } = await run(catalog([projectCommits()]), gitlab.url, {
    maxRequestsPerMinute: 600_000,
  });
  const pages = [...pageRequests(gitlab, "/repository/commits").keys()];
  assert.deepEqual(pages, Array.from({ length: COMMIT_PAGES }, (_, i) => i + 1));
  assert.equal(jobs.commits.length, COMMIT_PAGES * 2);
});

Deno.test("a page asked for past the end that fails does not fail the run, nor keeps it waiting for retries", async () => {
  await using gitlab = await startFakeGitlab({ size: commitsSize });
  gitlab.faults.push({
    kind: "status",
    status: 503,
    times: 1000,
    match: (r) =>
      r.path.endsWith("/repository/commits") &&
      Number(r.url.searchParams.get("page")) > COMMIT_PAGES,
  });
  const started = performance.now();
  // real sleeps and a 60 s backoff: a retry waited for would hold the run for a minute
  const { jobs } = await run(catalog([projectCommits()]), gitlab.url, {
    sleep: undefined,
    http: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
  });
  assert.ok(performance.now() - started < 30_000, "the run waited for a dropped page's retry");
  assert.equal(jobs.commits.length, COMMIT_PAGES * 2);
  assert.ok([...pageRequests(gitlab, "/repository/commits").keys()].some((p) => p > COMMIT_PAGES));
});

Deno.test("pages not known to exist: the window grows with the pages shown, a guess waits for budget, settle aborts", async () => {
  const started: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const answers = new Map<string, (r: HttpResponse) => void>();
  const fetch = (req: HttpRequest, signal: AbortSignal) => {
    started.push(req.url);
    signals.set(req.url, signal);
    return new Promise<HttpResponse>((ok, fail) => {
      answers.set(req.url, ok);
      signal.addEventListener("abort", () => fail(signal.reason));
    });
  };
  const take = async (a: PagesAhead, url: string) => {
    const page = a.next();
    answers.get(url)!({ url } as unknown as HttpResponse);
    assert.equal((await page)?.url, url);
  };
  const urlOf = (req: HttpRequest) => `http://gitlab.test/${req.url}`;
  let spare = true;
  const a = new PagesAhead(fetch, { count: Infinity, at: (i) => ({ url: `p${i + 2}` }) }, {
    window: 16,
    budget: new AheadBudget(16),
    guess: () => spare,
  });
  assert.deepEqual(started, ["p2"]); // linked from page 1
  await take(a, "p2");
  assert.deepEqual(started, ["p2"]); // nothing more until page 2 links to page 3
  assert.equal(a.follows({ url: "p4" }, urlOf), false);
  assert.ok(a.follows({ url: "p3" }, urlOf));
  a.confirm();
  assert.deepEqual(started, ["p2", "p3"]);
  await take(a, "p3");
  a.confirm();
  await take(a, "p4");
  a.confirm(); // 4 pages shown: page 5 (linked) and one guess
  assert.deepEqual(started, ["p2", "p3", "p4", "p5", "p6"]);
  spare = false;
  await take(a, "p5");
  a.confirm(); // page 6 is known now, page 7 would be a guess: not without budget to spare
  assert.deepEqual(started.slice(5), []);
  spare = true;
  await take(a, "p6");
  a.confirm();
  assert.deepEqual(started.slice(5), ["p7", "p8"]);
  // the series ends (page 6 had no next link, say): what is out is aborted
  await a.settle();
  assert.ok(signals.get("p7")!.aborted && signals.get("p8")!.aborted);
});
