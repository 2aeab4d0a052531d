import assert from "node:assert/strict";
import { all, type FakeGitlab, type FakeGitlabOptions, startFakeGitlab } from "./mod.ts";

const TOKEN = { "PRIVATE-TOKEN": "glpat-test" };
const SMALL: FakeGitlabOptions["size"] = { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1 };

interface Got {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function get(
  url: string,
  headers: Record<string, string> = TOKEN,
  init: RequestInit = {},
): Promise<Got> {
  const res = await fetch(url, { headers, ...init });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(",")) {
    const m = /<([^>]+)>;\s*rel="(\w+)"/.exec(part);
    if (m) out[m[2]] = m[1];
  }
  return out;
}

async function walk(gl: FakeGitlab, first: string): Promise<{ ids: number[]; pages: Got[] }> {
  const ids: number[] = [];
  const pages: Got[] = [];
  let next: string | undefined = first;
  while (next) {
    const page = await get(next);
    assert.equal(page.status, 200, page.text);
    pages.push(page);
    ids.push(...page.json.map((r: { id: number }) => r.id));
    next = links(page.headers.get("link")).next;
    if (next) assert.ok(next.startsWith(gl.url), `next link ${next} is on the server's own origin`);
    assert.ok(pages.length < 1000, "pagination terminates");
  }
  return { ids, pages };
}

const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

Deno.test("offset pagination sends GitLab's headers and links that walk every record once", async () => {
  await using gl = await startFakeGitlab({ size: { ...SMALL, issuesPerProject: 23 } });
  const first = await get(`${gl.url}/projects/1/issues?state=all&per_page=10`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-page"), "1");
  assert.equal(first.headers.get("x-per-page"), "10");
  assert.equal(first.headers.get("x-next-page"), "2");
  assert.equal(first.headers.get("x-prev-page"), "");
  assert.equal(first.headers.get("x-total"), "23");
  assert.equal(first.headers.get("x-total-pages"), "3");
  const rels = links(first.headers.get("link"));
  assert.deepEqual(Object.keys(rels).sort(), ["first", "last", "next"]);
  const next = new URL(rels.next);
  assert.equal(next.origin, gl.origin);
  assert.equal(next.pathname, "/api/v4/projects/1/issues");
  assert.equal(next.searchParams.get("state"), "all", "other query params are preserved");
  assert.equal(next.searchParams.get("page"), "2");
  assert.equal(new URL(rels.last).searchParams.get("page"), "3");

  const last = await get(`${gl.url}/projects/1/issues?state=all&per_page=10&page=3`);
  assert.equal(last.json.length, 3);
  assert.equal(last.headers.get("x-next-page"), "");
  assert.equal(last.headers.get("x-prev-page"), "2");
  assert.deepEqual(Object.keys(links(last.headers.get("link"))).sort(), ["first", "last", "prev"]);

  const { ids, pages } = await walk(
    gl,
    `${gl.url}/projects/1/issues?per_page=10&order_by=id&sort=asc`,
  );
  assert.equal(pages.length, 3);
  assert.deepEqual(ids, gl.data.issues.get(1)!.map((i) => i.id));
});

Deno.test("per_page defaults to 20, caps at 100, and a bad page is a 400", async () => {
  await using gl = await startFakeGitlab({ size: { ...SMALL, issuesPerProject: 150 } });
  const byDefault = await get(`${gl.url}/projects/1/issues`);
  assert.equal(byDefault.json.length, 20);
  assert.equal(byDefault.headers.get("x-per-page"), "20");
  const capped = await get(`${gl.url}/projects/1/issues?per_page=500`);
  assert.equal(capped.json.length, 100);
  assert.equal(capped.headers.get("x-per-page"), "100");
  const bad = await get(`${gl.url}/projects/1/issues?page=abc`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: "page is invalid" });
  const beyond = await get(`${gl.url}/projects/1/issues?page=99`);
  assert.deepEqual(beyond.json, []);
  assert.equal(beyond.headers.get("x-next-page"), "");
});

Deno.test("above 10,000 records totals and rel=last are left out", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, issuesPerProject: 10_001, notesPerIssue: 0, mergeRequestsPerProject: 0 },
  });
  const page = await get(`${gl.url}/projects/1/issues?per_page=100&page=2`);
  assert.equal(page.json.length, 100);
  assert.equal(page.headers.get("x-total"), null);
  assert.equal(page.headers.get("x-total-pages"), null);
  assert.equal(page.headers.get("x-next-page"), "3");
  assert.deepEqual(Object.keys(links(page.headers.get("link"))).sort(), ["first", "next", "prev"]);
  const last = await get(`${gl.url}/projects/1/issues?per_page=100&page=101`);
  assert.equal(last.json.length, 1);
  assert.equal(last.headers.get("x-next-page"), "");
  assert.equal(links(last.headers.get("link")).next, undefined);

  gl.deleteIssue(1, 1);
  const exact = await get(`${gl.url}/projects/1/issues?per_page=100`);
  assert.equal(exact.headers.get("x-total"), "10000", "exactly 10,000 still counts");
  assert.equal(exact.headers.get("x-total-pages"), "100");
});

Deno.test("generating 10k+ issues is fast and pages are served from them", async () => {
  const started = performance.now();
  await using gl = await startFakeGitlab({
    size: { ...SMALL, issuesPerProject: 12_000, notesPerIssue: 1 },
  });
  assert.ok(performance.now() - started < 3000, "generated in under 3 s");
  assert.equal(all(gl.data.issues).length, 12_000);
  const page = await get(`${gl.url}/projects/1/issues?per_page=100&order_by=updated_at&sort=asc`);
  assert.equal(page.json.length, 100);
  assert.ok(page.text.length < 400_000, "only the page is serialized");
});

Deno.test("commits never send x-total or x-total-pages", async () => {
  await using gl = await startFakeGitlab({ size: { ...SMALL, commitsPerProject: 7 } });
  const page = await get(`${gl.url}/projects/1/repository/commits?per_page=5`);
  assert.equal(page.json.length, 5);
  assert.equal(page.headers.get("x-total"), null);
  assert.equal(page.headers.get("x-total-pages"), null);
  assert.equal(page.headers.get("x-next-page"), "2");
  assert.equal(links(page.headers.get("link")).last, undefined);
  const { ids } = await walk(gl, `${gl.url}/projects/1/repository/commits?per_page=5`);
  assert.equal(ids.length, 7);
});

Deno.test("keyset pagination on /projects sends only rel=next and ends on an empty page", async () => {
  await using gl = await startFakeGitlab({
    size: { groups: 2, subgroupsPerGroup: 0, projectsPerGroup: 5 },
  });
  const asc = await walk(
    gl,
    `${gl.url}/projects?pagination=keyset&order_by=id&sort=asc&per_page=5`,
  );
  assert.deepEqual(asc.ids, gl.data.projects.map((p) => p.id));
  assert.equal(asc.pages.length, 3, "two full pages then an empty one");
  assert.deepEqual(asc.pages[2].json, []);
  assert.equal(asc.pages[2].headers.get("link"), null);
  const firstPage = asc.pages[0].headers;
  for (
    const name of ["x-page", "x-per-page", "x-next-page", "x-prev-page", "x-total", "x-total-pages"]
  ) {
    assert.equal(firstPage.get(name), null, `${name} is not sent in keyset mode`);
  }
  const next = new URL(links(firstPage.get("link")).next);
  assert.equal(next.searchParams.get("id_after"), "5");
  assert.equal(next.searchParams.get("pagination"), "keyset");

  const desc = await walk(
    gl,
    `${gl.url}/projects?pagination=keyset&order_by=id&sort=desc&per_page=4`,
  );
  assert.deepEqual(desc.ids, gl.data.projects.map((p) => p.id).reverse());
  assert.match(links(desc.pages[0].headers.get("link")).next, /id_before=7/);
  assert.equal(desc.pages.length, 3, "a partial last page has no next link");

  const byName = await get(`${gl.url}/projects?pagination=keyset&order_by=name&sort=asc`);
  assert.equal(byName.status, 405);
});

Deno.test("offset pagination is capped by maxOffset on /projects", async () => {
  await using gl = await startFakeGitlab({ size: SMALL, maxOffset: 100 });
  assert.equal((await get(`${gl.url}/projects?per_page=50&page=3`)).status, 200);
  const over = await get(`${gl.url}/projects?per_page=50&page=4`);
  assert.equal(over.status, 405);
  assert.match(over.json.error, /maximum allowed offset of 100/);
});

Deno.test("missing or invalid credentials get 401 and every token style works", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  const none = await get(`${gl.url}/projects`, {});
  assert.equal(none.status, 401);
  assert.deepEqual(none.json, { message: "401 Unauthorized" });
  assert.equal((await get(`${gl.url}/projects`, { "PRIVATE-TOKEN": "wrong" })).status, 401);
  assert.equal(
    (await get(`${gl.url}/projects`, { Authorization: "Bearer glpat-test" })).status,
    200,
  );
  assert.equal((await get(`${gl.url}/projects?private_token=glpat-test`, {})).status, 200);
  assert.equal((await get(`${gl.url}/projects`, { "JOB-TOKEN": "glpat-test" })).status, 401);
  const log = gl.requests.find((r) => r.headers["authorization"] !== undefined);
  assert.equal(
    log?.headers["authorization"],
    "Bearer glpat-test",
    "token headers are logged as sent",
  );
  assert.equal(gl.requests[0].headers["private-token"], undefined);
});

Deno.test("non-admin tokens get 403 on admin endpoints and the basic user shape", async () => {
  await using gl = await startFakeGitlab({
    size: SMALL,
    tokens: { "glpat-admin": { user: 1, admin: true }, "glpat-user": { user: 2 } },
  });
  const user = { "PRIVATE-TOKEN": "glpat-user" };
  for (
    const path of [
      "/admin/ci/variables",
      "/admin/clusters",
      "/application/appearance",
      "/applications",
    ]
  ) {
    const got = await get(`${gl.url}${path}`, user);
    assert.equal(got.status, 403, path);
    assert.deepEqual(got.json, { message: "403 Forbidden" });
  }
  const basic = await get(`${gl.url}/users`, user);
  assert.deepEqual(
    Object.keys(basic.json[0]).sort(),
    ["avatar_url", "id", "locked", "name", "state", "username", "web_url"],
  );
  const full = await get(`${gl.url}/users`, { "PRIVATE-TOKEN": "glpat-admin" });
  assert.ok("email" in full.json[0] && "is_admin" in full.json[0]);
  assert.equal((await get(`${gl.url}/user`, user)).json.id, 2);
});

Deno.test("a CI job token reaches only the allow-listed endpoints", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, projectsPerGroup: 2 },
    jobToken: { token: "job-secret", projectId: 1 },
  });
  const job = { "JOB-TOKEN": "job-secret" };
  for (
    const path of [
      "/projects/1/merge_requests",
      "/projects/1/merge_requests/1/notes",
      "/projects/1/repository/branches",
      "/projects/1/repository/tags",
      "/projects/1/releases",
      "/projects/1/deployments",
      "/projects/1/environments",
      "/job",
    ]
  ) {
    assert.equal((await get(`${gl.url}${path}`, job)).status, 200, path);
  }
  assert.equal(
    (await get(`${gl.url}/projects/1/merge_requests?job_token=job-secret`, {})).status,
    200,
  );
  const project = await get(`${gl.url}/projects/1`, job);
  assert.equal(project.status, 404);
  assert.deepEqual(project.json, { message: "404 Project Not Found" });
  for (
    const path of [
      "/projects/1/issues",
      "/projects/1/pipelines",
      "/projects/1/jobs",
      "/user",
      "/groups",
    ]
  ) {
    assert.equal((await get(`${gl.url}${path}`, job)).status, 401, path);
  }
  assert.equal(
    (await get(`${gl.url}/projects/2/merge_requests`, job)).status,
    404,
    "other project",
  );
  assert.equal((await get(`${gl.url}/job`)).status, 401, "/job needs a job token");
});

Deno.test("the READ_JOBS job-token permission opens the job lists", async () => {
  await using gl = await startFakeGitlab({
    size: SMALL,
    jobToken: { token: "job-secret", readJobs: true },
  });
  const job = { "JOB-TOKEN": "job-secret" };
  assert.equal((await get(`${gl.url}/projects/1/jobs`, job)).status, 200);
  const pipeline = gl.data.pipelines.get(1)![0].id;
  assert.equal((await get(`${gl.url}/projects/1/pipelines/${pipeline}/jobs`, job)).status, 200);
  assert.equal((await get(`${gl.url}/projects/1/pipelines`, job)).status, 401);
});

Deno.test("rate limit answers 429 Retry later with GitLab's headers", async () => {
  await using gl = await startFakeGitlab({ size: SMALL, rateLimit: { requestsPerMinute: 3 } });
  for (let i = 1; i <= 3; i++) {
    const ok = await get(`${gl.url}/version`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("ratelimit-limit"), "3");
    assert.equal(ok.headers.get("ratelimit-observed"), String(i));
    assert.equal(ok.headers.get("ratelimit-remaining"), String(3 - i));
    assert.equal(ok.headers.get("ratelimit-name"), "throttle_authenticated_api");
    assert.match(ok.headers.get("ratelimit-reset")!, /^\d{10}$/);
  }
  const limited = await get(`${gl.url}/version`);
  assert.equal(limited.status, 429);
  assert.equal(limited.text.trim(), "Retry later");
  assert.equal(limited.headers.get("ratelimit-remaining"), "0");
  const retryAfter = Number(limited.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60);
  assert.ok(!Number.isNaN(Date.parse(limited.headers.get("ratelimit-resettime")!)));
  assert.equal(
    (await get(`${gl.url}/version`, { "PRIVATE-TOKEN": "other" })).status,
    401,
    "per credential",
  );
});

Deno.test("rate limit without headers sends a bare 429", async () => {
  await using gl = await startFakeGitlab({
    size: SMALL,
    rateLimit: { requestsPerMinute: 1, sendHeaders: false, retryAfter: false },
  });
  const ok = await get(`${gl.url}/version`);
  assert.equal(ok.headers.get("ratelimit-limit"), null);
  const limited = await get(`${gl.url}/version`);
  assert.equal(limited.status, 429);
  for (
    const name of ["retry-after", "ratelimit-resettime", "ratelimit-remaining", "ratelimit-limit"]
  ) {
    assert.equal(limited.headers.get(name), null, name);
  }
});

Deno.test("a short rate-limit window resets after it passes", async () => {
  await using gl = await startFakeGitlab({
    size: SMALL,
    rateLimit: { requestsPerMinute: 1, windowMs: 200 },
  });
  await get(`${gl.url}/version`);
  let status = (await get(`${gl.url}/version`)).status;
  if (status === 200) status = (await get(`${gl.url}/version`)).status; // crossed a window edge
  assert.equal(status, 429);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal((await get(`${gl.url}/version`)).status, 200);
});

Deno.test("status faults apply to matching requests, in order, the given number of times", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  gl.faults.push(
    { kind: "status", status: 503, match: /\/issues$/, times: 2, headers: { "retry-after": "1" } },
    { kind: "status", status: 429 },
    { kind: "status", status: 500 },
  );
  const first = await get(`${gl.url}/projects/1/issues`);
  assert.equal(first.status, 503);
  assert.equal(first.headers.get("retry-after"), "1");
  assert.equal((await get(`${gl.url}/projects/1/issues`)).status, 503);
  const throttled = await get(`${gl.url}/projects/1/issues`);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.text.trim(), "Retry later");
  const failed = await get(`${gl.url}/projects`);
  assert.equal(failed.status, 500);
  assert.deepEqual(failed.json, { message: "500 Internal Server Error" });
  assert.equal((await get(`${gl.url}/projects/1/issues`)).status, 200);
  assert.equal(gl.faults.size, 0);
  assert.deepEqual(gl.requests.map((r) => r.status), [503, 503, 429, 500, 200]);
});

Deno.test("a reset fault closes the connection without a response", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  // A fresh client: Deno's fetch silently retries once when a reused keep-alive connection
  // closes before any response (push `times: 2` to defeat that).
  const client = Deno.createHttpClient({});
  try {
    gl.faults.push({ kind: "reset", match: (req) => req.path === "/projects" });
    await assert.rejects(fetch(`${gl.url}/projects`, { headers: TOKEN, client }), TypeError);
    assert.equal(gl.requests.at(-1)!.status, 0);
    assert.equal(gl.requests.at(-1)!.fault, "reset");
    const after = await fetch(`${gl.url}/projects`, { headers: TOKEN, client });
    assert.equal(after.status, 200);
    await after.body?.cancel();
  } finally {
    client.close();
  }
});

Deno.test("a reset fault twice is seen even on a reused connection", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  await get(`${gl.url}/version`);
  gl.faults.push({ kind: "reset", times: 2 });
  await assert.rejects(get(`${gl.url}/version`), TypeError);
});

Deno.test("a truncate fault sends the real status and part of the body", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  gl.faults.push({ kind: "truncate" });
  const res = await fetch(`${gl.url}/projects`, { headers: TOKEN });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-total"), "1");
  await assert.rejects(res.text(), TypeError);

  gl.faults.push({ kind: "truncate", mode: "short", fraction: 0.3 });
  const short = await fetch(`${gl.url}/projects`, { headers: TOKEN });
  assert.equal(short.status, 200);
  await assert.rejects(short.json(), SyntaxError);
});

Deno.test("a delay fault slows one response", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  gl.faults.push({ kind: "delay", ms: 150, match: "/version" });
  const started = performance.now();
  assert.equal((await get(`${gl.url}/version`)).status, 200);
  assert.ok(performance.now() - started >= 140);
  const fast = performance.now();
  await get(`${gl.url}/version`);
  assert.ok(performance.now() - fast < 140);
});

Deno.test("a sub-path prefix is served and used in links", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, issuesPerProject: 5 },
    prefix: "/gitlab/api/v4",
  });
  assert.equal(gl.url, `${gl.origin}/gitlab/api/v4`);
  const page = await get(`${gl.url}/projects/1/issues?per_page=2`);
  assert.equal(page.status, 200);
  assert.equal(
    new URL(links(page.headers.get("link")).next).pathname,
    "/gitlab/api/v4/projects/1/issues",
  );
  assert.ok(page.json[0].web_url.startsWith(`${gl.origin}/gitlab/`));
  const outside = await get(`${gl.origin}/api/v4/projects`);
  assert.equal(outside.status, 404);
  assert.equal(gl.requests.at(-1)!.apiPath, null);
});

Deno.test("linkBase puts Link URLs on another origin", async () => {
  await using gl = await startFakeGitlab({ size: SMALL, linkBase: "http://other.invalid/api/v4" });
  const page = await get(`${gl.url}/projects/1/issues?per_page=2`);
  assert.ok(
    links(page.headers.get("link")).next.startsWith(
      "http://other.invalid/api/v4/projects/1/issues?",
    ),
  );
});

Deno.test("projects resolve by id or url-encoded path; unknown ones get GitLab's 404s", async () => {
  await using gl = await startFakeGitlab();
  const sub = gl.data.projects.find((p) => p.path_with_namespace.split("/").length === 3)!;
  const encoded = encodeURIComponent(sub.path_with_namespace);
  assert.equal((await get(`${gl.url}/projects/${encoded}`)).json.id, sub.id);
  const missing = await get(`${gl.url}/projects/9999/issues`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { message: "404 Project Not Found" });
  const unknown = await get(`${gl.url}/no/such/thing`);
  assert.deepEqual([unknown.status, unknown.json], [404, { error: "404 Not Found" }]);
});

Deno.test("issue filters are inclusive and sorting follows order_by and sort", async () => {
  await using gl = await startFakeGitlab({ size: { ...SMALL, issuesPerProject: 40 } });
  const issues = gl.data.issues.get(1)!;
  const pivot = [...issues].sort((a, b) => a.updated_at.localeCompare(b.updated_at))[20];
  const after = await get(
    `${gl.url}/projects/1/issues?updated_after=${pivot.updated_at}&order_by=updated_at&sort=asc&per_page=100`,
  );
  const expected = issues.filter((i) => i.updated_at >= pivot.updated_at).map((i) => i.updated_at)
    .sort();
  assert.deepEqual(after.json.map((i: { updated_at: string }) => i.updated_at), expected);
  assert.equal(after.json[0].id, pivot.id, "updated_after includes the boundary");
  const before = await get(
    `${gl.url}/projects/1/issues?updated_before=${pivot.updated_at}&per_page=100`,
  );
  assert.ok(
    before.json.some((i: { id: number }) => i.id === pivot.id),
    "updated_before is inclusive",
  );
  assert.equal(before.json.length + after.json.length, issues.length + 1);
  const createdDesc = await get(`${gl.url}/projects/1/issues?per_page=100`);
  const created = createdDesc.json.map((i: { created_at: string }) => i.created_at);
  assert.deepEqual(created, [...created].sort().reverse(), "default is created_at desc");
  const closed = await get(`${gl.url}/projects/1/issues?state=closed&per_page=100`);
  assert.equal(closed.json.length, issues.filter((i) => i.state === "closed").length);
  assert.equal((await get(`${gl.url}/projects/1/issues?order_by=nope`)).status, 400);
  assert.equal((await get(`${gl.url}/projects/1/issues?updated_after=yesterday`)).status, 400);
});

Deno.test("merge request, pipeline, commit, event and project filters", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, mergeRequestsPerProject: 12, pipelinesPerProject: 10, commitsPerProject: 10 },
  });
  const merged = await get(`${gl.url}/projects/1/merge_requests?state=merged&per_page=100`);
  assert.equal(
    merged.json.length,
    gl.data.mergeRequests.get(1)!.filter((m) => m.state === "merged").length,
  );
  const pipelines = gl.data.pipelines.get(1)!;
  const cutoff = [...pipelines].map((p) => p.updated_at).sort()[5];
  const recent = await get(`${gl.url}/projects/1/pipelines?updated_after=${cutoff}`);
  assert.equal(recent.json.length, pipelines.filter((p) => p.updated_at >= cutoff).length);
  assert.deepEqual(
    Object.keys(recent.json[0]).sort(),
    [
      "created_at",
      "id",
      "iid",
      "name",
      "project_id",
      "ref",
      "sha",
      "source",
      "status",
      "updated_at",
      "web_url",
    ],
  );
  const commits = gl.data.commits.get(1)!;
  const since = commits[6].committed_date;
  const until = commits[2].committed_date;
  const window = await get(`${gl.url}/projects/1/repository/commits?since=${since}&until=${until}`);
  assert.equal(window.json.length, 5);
  const badProjects = await get(`${gl.url}/projects?updated_after=2024-01-01T00:00:00Z`);
  assert.equal(badProjects.status, 400, "updated_after needs order_by=updated_at");
  const okProjects = await get(
    `${gl.url}/projects?updated_after=2000-01-01T00:00:00Z&order_by=updated_at`,
  );
  assert.equal(okProjects.json.length, 1);
  const events = gl.data.events.get(1)!;
  const day = events[2].created_at.slice(0, 10);
  const later = await get(`${gl.url}/projects/1/events?after=${day}`);
  assert.ok(later.json.every((e: { created_at: string }) => e.created_at.slice(0, 10) > day));
});

Deno.test("group endpoints list subgroups, descendants and projects with include_subgroups", async () => {
  await using gl = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 2, projectsPerGroup: 2 },
  });
  assert.equal((await get(`${gl.url}/groups`)).json.length, 3);
  assert.equal((await get(`${gl.url}/groups/1/subgroups`)).json.length, 2);
  assert.equal((await get(`${gl.url}/groups/1/descendant_groups`)).json.length, 2);
  assert.equal((await get(`${gl.url}/groups/1/projects`)).json.length, 2);
  assert.equal((await get(`${gl.url}/groups/1/projects?include_subgroups=true`)).json.length, 6);
  const group = await get(`${gl.url}/groups/${encodeURIComponent(gl.data.groups[0].full_path)}`);
  assert.equal(group.json.projects.length, 2);
  assert.equal((await get(`${gl.url}/groups/999`)).json.message, "404 Group Not Found");
});

Deno.test("disabled features answer 403 or 404 Repository Not Found", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, projectsPerGroup: 3 },
    projectsWithIssuesDisabled: [1],
    projectsWithEmptyRepo: [2],
    projectsWithCiDisabled: [3],
  });
  assert.deepEqual((await get(`${gl.url}/projects/1/issues`)).json, { message: "403 Forbidden" });
  const empty = await get(`${gl.url}/projects/2/repository/commits`);
  assert.deepEqual([empty.status, empty.json], [404, { message: "404 Repository Not Found" }]);
  assert.equal((await get(`${gl.url}/projects/3/pipelines`)).status, 403);
  assert.equal((await get(`${gl.url}/projects/3/jobs`)).status, 403);
  assert.equal((await get(`${gl.url}/projects/2/issues`)).status, 200);
});

Deno.test("mutations bump updated_at past the clock and show up in incremental queries", async () => {
  await using gl = await startFakeGitlab({ size: { ...SMALL, issuesPerProject: 10 } });
  const cursor = gl.clock.iso();
  gl.advance(60_000);
  const before = gl.data.issues.get(1)![3].updated_at;
  const updated = gl.updateIssue(1, 4, { title: "Renamed" });
  assert.ok(updated.updated_at > before && updated.updated_at > cursor);
  const added = gl.addIssue(1);
  assert.equal(added.iid, 11);
  assert.ok(added.updated_at > updated.updated_at);
  const changed = await get(
    `${gl.url}/projects/1/issues?updated_after=${cursor}&order_by=updated_at&sort=asc`,
  );
  assert.deepEqual(changed.json.map((i: { iid: number }) => i.iid), [4, 11]);
  assert.equal(changed.json[0].title, "Renamed");
  gl.deleteIssue(1, 11);
  assert.equal((await get(`${gl.url}/projects/1/issues?per_page=100`)).json.length, 10);
  const mr = gl.addMergeRequest(1);
  assert.equal(mr.state, "opened");
  const pipeline = gl.addPipeline(1, { status: "running" });
  assert.ok((gl.data.jobs.get(pipeline.id) ?? []).every((j) => j.pipeline.status === "running"));
  gl.updatePipeline(1, pipeline.id, { status: "success" });
  const got = await get(`${gl.url}/projects/1/pipelines/${pipeline.id}`);
  assert.equal(got.json.status, "success");
  gl.setData((data) => {
    data.projects[0].archived = true;
  });
  assert.equal((await get(`${gl.url}/projects?archived=true`)).json.length, 1);
});

Deno.test("the same seed gives the same data and records have GitLab's shapes", async () => {
  await using a = await startFakeGitlab({ seed: 7 });
  await using b = await startFakeGitlab({ seed: 7 });
  await using c = await startFakeGitlab({ seed: 8 });
  const strip = (s: string) =>
    s.replaceAll(a.origin, "").replaceAll(b.origin, "").replaceAll(c.origin, "");
  const issueA = strip(JSON.stringify(a.data.issues.get(1)));
  assert.equal(issueA, strip(JSON.stringify(b.data.issues.get(1))));
  assert.notEqual(issueA, strip(JSON.stringify(c.data.issues.get(1))));

  const job = all(a.data.jobs)[0];
  assert.equal("project_id" in job, false, "jobs carry only pipeline.project_id");
  assert.equal(typeof job.pipeline.project_id, "number");
  const issue = a.data.issues.get(1)![0];
  for (
    const key of [
      "author",
      "assignees",
      "labels",
      "references",
      "time_stats",
      "_links",
      "milestone",
    ]
  ) {
    assert.ok(key in issue, key);
  }
  for (
    const [name, records] of Object.entries({ issues: all(a.data.issues), jobs: all(a.data.jobs) })
  ) {
    const ids = records.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, `${name} ids are unique`);
    for (const r of records) assert.match(r.created_at, ISO_MS_Z);
  }
  const pipelineIds = all(a.data.pipelines).map((p) => p.id);
  assert.equal(new Set(pipelineIds).size, pipelineIds.length);
});

Deno.test("the seed's endpoints answer for an admin", async () => {
  await using gl = await startFakeGitlab({ size: SMALL });
  const badge = gl.data.badges.get(1)![0].id;
  const groupBadge = gl.data.groupBadges.get(1)![0].id;
  const job = all(gl.data.jobs)[0].id;
  const paths = [
    "/application/appearance",
    "/applications",
    "/admin/batched_background_migrations",
    "/admin/batched_background_migrations/1234",
    "/broadcast_messages",
    "/broadcast_messages/1",
    "/bulk_imports",
    "/bulk_imports/1",
    "/bulk_imports/entities",
    "/bulk_imports/1/entities",
    "/bulk_imports/1/entities/1",
    "/admin/ci/variables",
    "/admin/ci/variables/TEST_VARIABLE_1",
    "/admin/clusters",
    "/admin/clusters/9",
    "/groups/1/access_requests",
    "/projects/1/access_requests",
    "/groups/1/badges",
    `/groups/1/badges/${groupBadge}`,
    "/projects/1/badges",
    `/projects/1/badges/${badge}`,
    "/projects/1/repository/branches/main",
    `/projects/1/jobs/${job}`,
    "/metadata",
    "/version",
    "/application/plan_limits",
    "/projects/1/alert_management_alerts/1/metric_images",
    "/projects/1/milestones",
    "/projects/1/labels",
    "/projects/1/members",
    "/groups/1/members",
    "/projects/1/issues/1/notes",
    "/projects/1/merge_requests/1/commits",
    "/projects/1/releases",
    "/projects/1/deployments?updated_after=2000-01-01T00:00:00Z",
    "/projects/1/environments",
    "/projects/1/events",
    "/users",
    "/user",
  ];
  for (const path of paths) {
    const got = await get(`${gl.url}${path}`);
    assert.equal(got.status, 200, `${path}: ${got.text}`);
    assert.equal(got.headers.get("content-type"), "application/json", path);
  }
  assert.equal((await get(`${gl.url}/admin/clusters/12345`)).status, 404);
});

Deno.test("cacheReplies serves a repeated request from its first reply until the data changes", async () => {
  await using gl = await startFakeGitlab({
    size: { ...SMALL, issuesPerProject: 20 },
    cacheReplies: true,
    rateLimit: { requestsPerMinute: 100, windowMs: 60_000 },
  });
  const url = `${gl.url}/projects/1/issues?per_page=5&page=2`;
  const first = await get(url);
  assert.equal(first.json.length, 5);
  // changed behind the fake's back (not through its helpers): the cached reply still shows the
  // old title, which only a cache can do
  const issue = gl.data.issues.get(1)!.find((i) => i.iid === first.json[0].iid)!;
  const title = issue.title;
  issue.title = "changed behind the cache";
  const cached = await get(url);
  assert.equal(cached.json[0].title, title);
  assert.equal(cached.status, 200);
  assert.equal(cached.text, first.text);
  // the pagination headers come with the cached reply, the per-response ones are new
  assert.equal(cached.headers.get("x-total"), first.headers.get("x-total"));
  assert.equal(cached.headers.get("link"), first.headers.get("link"));
  assert.notEqual(cached.headers.get("x-request-id"), first.headers.get("x-request-id"));
  assert.equal(Number(cached.headers.get("ratelimit-remaining")), 98);
  // another credential or query is another request
  const other = await get(`${gl.url}/projects/1/issues?per_page=5&page=3`);
  assert.notEqual(other.text, first.text);
  // a change of the data empties the cache
  const iid = first.json[0].iid;
  gl.updateIssue(1, iid, { title: "changed after caching" });
  const issues = await walk(gl, `${gl.url}/projects/1/issues?per_page=5`);
  assert.ok(issues.pages.some((p) => p.text.includes("changed after caching")));
  gl.setData((d) => {
    d.issues.clear();
  });
  assert.deepEqual((await get(url)).json, []);
});
