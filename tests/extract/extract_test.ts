import assert from "node:assert/strict";
import { HttpError, UserError } from "../../lib/common/errors.ts";
import { clearSecrets } from "../../lib/common/redact.ts";
import { all, startFakeGitlab } from "../fake_gitlab/mod.ts";
import { join } from "node:path";
import { extract } from "../../lib/extract/extract.ts";
import { Cursors, PER_PARENT_KEY, type ResourcesState } from "../../lib/extract/incremental.ts";
import {
  catalog,
  GITLAB,
  issueNotes,
  issues,
  json,
  packageDir,
  projects,
  readJobs,
  resource,
  run,
  source,
  startServer,
  TOKEN,
} from "./_helpers.ts";

const sortById = <T extends Record<string, unknown>>(rows: T[]) =>
  [...rows].sort((a, b) => Number(a.id) - Number(b.id));

Deno.test("extract() fans out parent → child → grandchild with include_from_parent", async () => {
  await using gitlab = await startFakeGitlab({});
  const { info, jobs } = await run(catalog([projects(), issues(), issueNotes()]), gitlab.url);
  // membership=true: the projects the token's user is a member of
  const ids = new Set(jobs.projects.map((p) => p.id));
  assert.ok(ids.size >= 10 && ids.size === jobs.projects.length);
  const expectedIssues = all(gitlab.data.issues).filter((i) => ids.has(i.project_id));
  const expectedNotes = all(gitlab.data.issueNotes).filter((n) =>
    expectedIssues.some((i) => i.id === n.noteable_id)
  );
  assert.equal(jobs.issues.length, expectedIssues.length);
  assert.equal(jobs.issue_notes.length, expectedNotes.length);
  assert.deepEqual(info.tables, {
    projects: ids.size,
    issues: expectedIssues.length,
    issue_notes: expectedNotes.length,
  });
  for (const issue of jobs.issues) assert.equal(issue._projects_id, issue.project_id);
  for (const note of jobs.issue_notes) {
    assert.equal(typeof note._issues_iid, "number");
    assert.equal(typeof note._issues__projects_id, "number");
  }
  // records are written exactly as received (plus the parent fields)
  const { _projects_id: _, ...first } = sortById(jobs.issues)[0];
  assert.deepEqual(first, JSON.parse(JSON.stringify(sortById(expectedIssues)[0])));
  assert.equal(info.warnings.length, 0);
  assert.equal(info.requests, gitlab.requests.length);
  assert.equal(info.resources.projects.pages, Math.ceil(gitlab.data.projects.length / 5));
  assert.ok(
    gitlab.requests.every((r) => r.headers["private-token"] === TOKEN && !r.headers["job-token"]),
  );
});

Deno.test("extract() keeps memory to one page per level: depth-first order", async () => {
  await using gitlab = await startFakeGitlab({});
  await run(catalog([projects(), issues()]), gitlab.url);
  const paths = gitlab.requests.map((r) => r.apiPath!);
  // the second projects page is asked for only after the first page's children ran
  const secondPage = paths.findIndex((p, i) => i > 0 && p === "/projects");
  const firstIssues = paths.findIndex((p) => p.endsWith("/issues"));
  assert.ok(firstIssues > 0 && firstIssues < secondPage);
});

Deno.test("extract() writes only selected resources and the requested ones", async () => {
  await using gitlab = await startFakeGitlab({});
  const cat = catalog([projects({ selected: false }), issues(), issueNotes()]);
  let { info, jobs } = await run(cat, gitlab.url);
  assert.equal(jobs.projects, undefined);
  assert.ok(jobs.issues.length > 0);
  assert.deepEqual(Object.keys(info.tables).sort(), ["issue_notes", "issues"]);
  // resources: [issues] → projects fetched (not written: not selected), notes not fetched
  gitlab.requests.length = 0;
  ({ info, jobs } = await run(cat, gitlab.url, { resources: ["issues"] }));
  assert.deepEqual(Object.keys(jobs), ["issues"]);
  assert.ok(!gitlab.requests.some((r) => r.apiPath!.endsWith("/notes")));
  assert.deepEqual(Object.keys(info.resources).sort(), ["issues", "projects"]);
  // an ancestor whose selected is true is written too
  ({ jobs } = await run(catalog([projects(), issues()]), gitlab.url, { resources: ["issues"] }));
  assert.deepEqual(Object.keys(jobs).sort(), ["issues", "projects"]);
  await assert.rejects(
    run(cat, gitlab.url, { resources: ["isues"] }),
    (e) => e instanceof UserError && /Cannot extract "isues": no such resource/.test(e.message),
  );
});

Deno.test("extract(): write_disposition skip (dlt's) is never written, named or not; it still feeds its children", async () => {
  await using gitlab = await startFakeGitlab({});
  const cat = catalog([projects({ writeDisposition: "skip" }), issues()]);
  for (const resources of [undefined, ["projects", "issues"]]) {
    const { info, jobs } = await run(cat, gitlab.url, { resources });
    assert.equal(jobs.projects, undefined, String(resources));
    assert.ok(jobs.issues.length > 0);
    assert.deepEqual(Object.keys(info.tables), ["issues"]);
  }
  // alone, it is not even fetched
  gitlab.requests.length = 0;
  const { jobs } = await run(catalog([projects({ writeDisposition: "skip" })]), gitlab.url);
  assert.deepEqual(jobs, {});
  assert.equal(gitlab.requests.length, 0);
});

Deno.test("extract() turns a 403/404 on one project's child into a warning and goes on", async () => {
  await using gitlab = await startFakeGitlab({
    projectsWithIssuesDisabled: [2],
    projectsWithEmptyRepo: [3],
  });
  const commits = resource("commits", {
    paginator: GITLAB,
    parent: "projects",
    endpoint: { method: "GET", path: "projects/{resources.projects.id}/repository/commits" },
  });
  const warnings: string[] = [];
  const { info, jobs } = await run(catalog([projects(), issues(), commits]), gitlab.url, {
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(info.warnings.length, 2);
  assert.deepEqual(warnings, info.warnings);
  const p2 = gitlab.data.projects.find((p) => p.id === 2)!;
  const w = info.warnings.find((x) => x.includes('"issues"'))!;
  assert.ok(
    w.startsWith(
      `Skipped resource "issues" for projects record id 2 "${p2.path_with_namespace}": GitLab answered HTTP 403`,
    ),
    w,
  );
  assert.ok(
    info.warnings.some((x) =>
      x.startsWith('Skipped resource "commits" for projects record id 3') && x.includes("404")
    ),
  );
  const ids = new Set(jobs.projects.map((p) => p.id));
  const expected =
    all(gitlab.data.issues).filter((i) => i.project_id !== 2 && ids.has(i.project_id))
      .length;
  assert.equal(jobs.issues.length, expected);
  assert.ok(jobs.commits.length > 0);
});

Deno.test("extract() stops at once on 401", async () => {
  await using gitlab = await startFakeGitlab({});
  const err = await run(catalog([projects(), issues()]), gitlab.url, {
    source: source({ api_key: "glpat-wrong-token" }),
  }).catch((e) => e);
  assert.ok(err instanceof HttpError);
  assert.equal(err.status, 401);
  assert.match(err.message, /^GitLab rejected the token \(401 Unauthorized\)/);
  assert.ok(!err.message.includes("glpat-wrong-token"));
  assert.equal(gitlab.requests.length, 1);
});

Deno.test("extract() --limit caps pages per request series", async () => {
  await using gitlab = await startFakeGitlab({});
  const { info, jobs } = await run(catalog([projects(), issues()]), gitlab.url, { limit: 1 });
  assert.equal(jobs.projects.length, 5);
  assert.equal(info.resources.projects.pages, 1);
  // one page of 2 issues for each of the 5 projects
  assert.equal(info.resources.issues.pages, 5);
  assert.equal(jobs.issues.length, 10);
});

Deno.test("extract() scope: projects de-duplicates configured projects and groups", async () => {
  await using gitlab = await startFakeGitlab({});
  const acme = gitlab.data.projects.filter((p) =>
    String(p.path_with_namespace).startsWith("acme/")
  );
  const outside = gitlab.data.projects.find((p) =>
    !String(p.path_with_namespace).startsWith("acme/")
  )!;
  const inside = acme[0];
  const { info, jobs } = await run(
    catalog([projects({ scope: "projects" }), issues()]),
    gitlab.url,
    {
      source: source({
        api_key: TOKEN,
        projects: [String(inside.path_with_namespace), String(outside.id)],
        groups: ["acme"],
      }),
    },
  );
  const ids = jobs.projects.map((p) => p.id as number).sort((a, b) => a - b);
  assert.deepEqual(ids, [...acme.map((p) => p.id), outside.id].sort((a, b) => a - b));
  const paths = gitlab.requests.map((r) => r.path);
  assert.ok(
    paths.includes(
      `/api/v4/projects/${encodeURIComponent(String(inside.path_with_namespace))}`,
    ),
    paths.join("\n"),
  );
  const groupReq = gitlab.requests.find((r) => r.apiPath === "/groups/acme/projects")!;
  assert.equal(groupReq.query.include_subgroups, "true");
  assert.equal(groupReq.query.membership, undefined);
  // children run once per distinct project
  const issueSeries = gitlab.requests.filter((r) => /^\/projects\/\d+\/issues$/.test(r.apiPath!));
  const firstPages = issueSeries.filter((r) => r.query.page === undefined);
  assert.equal(firstPages.length, ids.length);
  assert.equal(info.tables.projects, ids.length);
});

Deno.test("extract() scope: groups reads configured groups and descendants", async () => {
  await using gitlab = await startFakeGitlab({});
  const groups = resource("groups", {
    scope: "groups",
    paginator: GITLAB,
    endpoint: { method: "GET", path: "groups" },
  });
  let { jobs } = await run(catalog([groups]), gitlab.url, {
    source: source({ api_key: TOKEN, groups: ["acme", "acme/team-1"] }),
  });
  assert.deepEqual(jobs.groups.map((g) => g.full_path).sort(), ["acme", "acme/team-1"]);
  ({ jobs } = await run(catalog([groups]), gitlab.url, {
    source: source({ api_key: TOKEN, projects: ["acme/api"] }),
  }));
  assert.equal(jobs.groups, undefined);
  ({ jobs } = await run(catalog([groups]), gitlab.url));
  assert.equal(jobs.groups.length, gitlab.data.groups.length);
});

Deno.test("extract() scope: an unknown configured project names the config key", async () => {
  await using gitlab = await startFakeGitlab({});
  const err = await run(catalog([projects({ scope: "projects" })]), gitlab.url, {
    source: source({ api_key: TOKEN, projects: ["no/such"] }),
  }).catch((e) => e);
  assert.ok(err instanceof HttpError);
  assert.equal(err.status, 404);
  assert.match(err.message, /^Cannot read project "no\/such" \(sources\.gitlab\.projects\): /);
});

Deno.test("extract() data is identical after retried faults (no duplicate page)", async () => {
  await using gitlab = await startFakeGitlab({});
  const cat = catalog([projects(), issues()]);
  const clean = await run(cat, gitlab.url);
  const issuesOf = (n: number) => new RegExp(`^/projects/${n}/issues$`);
  gitlab.faults.push(
    { kind: "status", status: 500, match: /^\/projects$/ },
    { kind: "truncate", match: /^\/projects$/, mode: "short" },
    { kind: "status", status: 502, match: issuesOf(1) },
    { kind: "status", status: 503, match: issuesOf(1), headers: { "retry-after": "1" } },
    { kind: "status", status: 429, match: issuesOf(2) },
    { kind: "reset", match: issuesOf(3) },
    { kind: "truncate", match: issuesOf(4), mode: "abort" },
    { kind: "truncate", match: issuesOf(5), mode: "short", fraction: 0.9 },
  );
  const faulty = await run(cat, gitlab.url);
  assert.equal(gitlab.faults.size, 0);
  // 8 faults; a reset on a pooled keep-alive connection may be retried by fetch itself
  assert.ok(faulty.info.retries >= 7, String(faulty.info.retries));
  assert.deepEqual(faulty.jobs, clean.jobs);
  assert.deepEqual(faulty.info.tables, clean.info.tables);
});

Deno.test("extract() error after exhausted retries names the resource, token redacted", async () => {
  clearSecrets();
  await using gitlab = await startFakeGitlab({});
  gitlab.faults.push({ kind: "status", status: 503, match: /\/issues$/, times: 5 });
  const cat = catalog([projects(), issues()], {
    auth: { type: "api_key", name: "private_token", location: "query" },
  });
  // One series at a time, so that the 5 faults hit the same series.
  const err = await run(cat, gitlab.url, { concurrency: 1 }).catch((e) => e);
  assert.ok(err instanceof HttpError);
  assert.equal(err.status, 503);
  assert.equal(err.retryable, true);
  assert.match(
    err.message,
    /^Cannot fetch resource "issues": GET http:\/\/127\.0\.0\.1:\d+\/api\/v4\/projects\/\d+\/issues\?per_page=2&scope=all failed after 5 attempts: HTTP 503/,
  );
  assert.ok(!err.message.includes(TOKEN));
  assert.ok(gitlab.requests.some((r) => r.query.private_token === TOKEN));
});

Deno.test("extract() never sends the token to another origin named in a Link header", async () => {
  const other = startServer(() => json([]));
  try {
    await using gitlab = await startFakeGitlab({ linkBase: `${other.origin}/api/v4` });
    const warned: string[] = [];
    const { jobs, info } = await run(catalog([projects()]), gitlab.url, {
      onWarning: (w) => warned.push(w),
    });
    assert.equal(jobs.projects.length, 5);
    // data from there may be only the public part: said once, in the run's warnings
    assert.deepEqual(warned, info.warnings);
    assert.equal(warned.length, 1);
    assert.match(
      warned[0],
      new RegExp(
        `^Read resource "projects" from ${other.origin} \\(GitLab's next-page link or redirect led there\\), outside base_url ${gitlab.url}: no token is sent to another origin, so only public data comes from there`,
      ),
    );
    assert.equal(other.requests.length, 1);
    assert.equal(other.requests[0].url.pathname, "/api/v4/projects");
    assert.equal(other.requests[0].headers.get("private-token"), null);
    assert.equal(other.requests[0].url.searchParams.get("private_token"), null);
  } finally {
    await other.close();
  }
});

Deno.test("pages read from another origin without the token keep the incremental cursor", async () => {
  // a GitLab that links to its external_url: page 2 comes from there, without the token, and
  // shows only public data (here: none)
  const other = startServer(() => json([]));
  try {
    await using gitlab = await startFakeGitlab({ linkBase: `${other.origin}/api/v4` });
    const incremental = {
      cursor_path: "updated_at",
      initial_value: "2000-01-01T00:00:00Z",
      start_param: "updated_after",
    };
    const root = resource("issues", {
      paginator: GITLAB,
      endpoint: {
        method: "GET",
        path: "projects/1/issues",
        params: { per_page: 2 },
        incremental,
      },
    });
    const state: ResourcesState = {};
    const cursors = new Cursors(state);
    const { jobs, info } = await run(catalog([root]), gitlab.url, { cursors });
    cursors.commit();
    assert.equal(jobs.issues.length, 2); // page 1 only
    assert.equal(other.requests.length, 1);
    assert.ok(
      info.warnings.some((w) =>
        w.startsWith(
          'Resource "issues" was read in part from another origin without the token: ' +
            'the incremental cursor of "issues" stays where it was',
        )
      ),
      info.warnings.join("\n"),
    );
    // before, the cursor moved to the newest of the 2 records read: the others were lost
    assert.deepEqual(state, {});
  } finally {
    await other.close();
  }
});

Deno.test("extract() uses JOB-TOKEN when only a CI job token is configured", async () => {
  await using gitlab = await startFakeGitlab({ jobToken: "ci-job-token-xyz" });
  const mrs = resource("merge_requests", {
    paginator: GITLAB,
    endpoint: { method: "GET", path: "projects/1/merge_requests" },
  });
  const { jobs } = await run(catalog([mrs]), gitlab.url, {
    source: source({ job_token: "ci-job-token-xyz" }),
  });
  assert.equal(jobs.merge_requests.length, gitlab.data.mergeRequests.get(1)!.length);
  assert.equal(gitlab.requests[0].headers["job-token"], "ci-job-token-xyz");
  assert.equal(gitlab.requests[0].headers["private-token"], undefined);
});

Deno.test("extract() keeps a sub-path base URL and reports progress", async () => {
  await using gitlab = await startFakeGitlab({ prefix: "/gitlab/api/v4" });
  const events: { resource: string; pages: number }[] = [];
  const { info } = await run(catalog([projects()]), gitlab.url, {
    onProgress: (e) => events.push({ resource: e.resource, pages: e.pages }),
  });
  assert.ok(gitlab.url.endsWith("/gitlab/api/v4"));
  assert.ok(gitlab.requests.every((r) => r.path.startsWith("/gitlab/api/v4/projects")));
  assert.equal(events.length, info.resources.projects.pages);
  assert.deepEqual(events.at(-1), { resource: "projects", pages: events.length });
});

Deno.test("extract() single-entity child path: one record per parent, data_selector $", async () => {
  await using gitlab = await startFakeGitlab({});
  const detail = resource("project_detail", {
    parent: "projects",
    // the client's page_number paginator must not apply to a single entity (dlt's rule)
    paginator: { type: "page_number", total_path: null, maximum_page: 3 },
    endpoint: { method: "GET", path: "projects/{resources.projects.id}" },
  });
  const { jobs } = await run(
    catalog([projects({ selected: false }), detail], {
      paginator: { type: "page_number", total_path: null, maximum_page: 3 },
    }),
    gitlab.url,
  );
  assert.equal(
    jobs.project_detail.length,
    gitlab.requests.filter((r) => /^\/projects\/\d+$/.test(r.apiPath!)).length,
  );
  assert.ok(jobs.project_detail.length >= 10);
  assert.ok(!gitlab.requests.some((r) => r.query.page !== undefined && r.apiPath !== "/projects"));
  assert.ok(jobs.project_detail.every((p) => typeof p.path_with_namespace === "string"));
});

Deno.test("extract() honours response_actions ignore on a child", async () => {
  await using gitlab = await startFakeGitlab({ projectsWithIssuesDisabled: [1] });
  const { info } = await run(
    catalog([
      projects(),
      issues({
        endpoint: {
          method: "GET",
          path: "projects/{resources.projects.id}/issues",
          response_actions: [{ status_code: 403, action: "ignore" }],
        },
      }),
    ]),
    gitlab.url,
  );
  assert.equal(info.warnings.length, 0);
});

Deno.test("extract() reports the total pages GitLab announces for a top-level resource", async () => {
  await using gitlab = await startFakeGitlab({
    size: { groups: 1, subgroupsPerGroup: 0, projectsPerGroup: 1 },
    sizeOverrides: {},
  });
  const project = gitlab.data.projects[0].id;
  gitlab.setData((d) => {
    const issues = d.issues.get(project)!;
    while (issues.length < 45) issues.push({ ...issues[0], id: 900_000 + issues.length });
  });
  const issues = resource("issues", {
    paginator: GITLAB,
    endpoint: { method: "GET", path: `projects/${project}/issues`, params: { per_page: 20 } },
  });
  const totals: (number | undefined)[] = [];
  await run(catalog([issues]), gitlab.url, { onProgress: (e) => totals.push(e.totalPages) });
  assert.deepEqual(totals, [3, 3, 3]);
  // with --limit the total is capped
  const limited: (number | undefined)[] = [];
  await run(catalog([issues]), gitlab.url, {
    limit: 2,
    onProgress: (e) => limited.push(e.totalPages),
  });
  assert.deepEqual(limited, [2, 2]);
});

Deno.test("extract() lists the job files whose lines are all plain JSON in plain_json.json", async () => {
  // bodies with a number plain JSON.parse would change (1.0, beyond 2^53) go through the exact
  // parser: their lines, and lines that took such a value from a parent, are not plain
  const bodies: Record<string, string> = {
    "/plain": '[{"id": 1, "x": 1.5, "s": "1.0 in a string"}]',
    "/floats": '[{"id": 1, "x": 1.0}]',
    "/parents": '[{"id": 3, "big": 12345678901234567890}]',
    "/parents/3/kids": '[{"k": 1}]',
    "/mixed": '[{"id": 1}]',
    "/mixed2": '[{"id": 2, "x": 2.00}]',
  };
  const server = startServer((_req, url) => {
    const headers: Record<string, string> = {};
    if (url.pathname === "/mixed") headers.link = `<${server.origin}/mixed2>; rel="next"`;
    return new Response(bodies[url.pathname] ?? "[]", {
      headers: { "content-type": "application/json", ...headers },
    });
  });
  const dir = await packageDir();
  try {
    const kids = (name: string, field: string) =>
      resource(name, {
        parent: "parents",
        includeFromParent: [field],
        endpoint: { method: "GET", path: "parents/{resources.parents.id}/kids" },
      });
    const link = { type: "header_link" } as const;
    await extract(
      catalog([
        resource("plain"),
        resource("floats"),
        resource("parents"),
        kids("kids_id", "id"), // a plain page and a plain value from the parent
        kids("kids_big", "big"), // a plain page, but an exact integer from the parent
        resource("mixed", { paginator: link }),
      ]),
      { source: source({ api_key: TOKEN }), baseUrl: server.origin, packageDir: dir },
    );
    const listed = JSON.parse(await Deno.readTextFile(join(dir, "plain_json.json"))) as string[];
    const tables = listed.map((f) => f.split(".")[0]);
    assert.deepEqual(tables.sort(), ["kids_id", "plain"]);
    for (const f of listed) assert.ok(Deno.statSync(join(dir, "new_jobs", f)).isFile);
    // the exact values are in the files that are not listed
    const jobs = await readJobs(dir);
    assert.equal(jobs.kids_big.length, 1);
    const bigFile = [...Deno.readDirSync(join(dir, "new_jobs"))].find((e) =>
      e.name.startsWith("kids_big.")
    )!;
    assert.match(
      await Deno.readTextFile(join(dir, "new_jobs", bigFile.name)),
      /"_parents_big":12345678901234567890\b/,
    );
    assert.equal(jobs.mixed.length, 2, "both pages of the mixed table were written");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extract() writes a page that is exactly its records as received, others record by record", async () => {
  // the body goes to the file as it came (no parse-and-serialize of every record) only when
  // it is the page's record array on one line, read alike from its text and from the records
  // serialized again (plain JSON.parse gives its numbers), every record kept unchanged
  const records = [{ id: 1, name: "caf\u00e9 \u00e9", n: 100, x: 1.5 }, { id: 2, name: null }];
  const asReceived =
    '[{"id": 1, "name": "caf\\u00e9 \u00e9", "n": 100, "x": 1.5}, {"id":2,"name":null}]';
  const bodies: Record<string, string> = {
    "/asis": asReceived,
    "/pretty": JSON.stringify(records, null, 2),
    "/bom": "\uFEFF" + JSON.stringify(records),
    "/wrapped": JSON.stringify({ data: records }),
    "/parents": '[{"id": 7}]',
    "/parents/7/kids": asReceived,
    // a record that is a list is read as that many records from a line of its own
    "/lists": '[{"id": 1}, [{"id": 2}, {"id": 3}]]',
    // numbers plain JSON.parse changes (1e400 is Infinity, serialized as null)
    "/exact": '[{"id": 1, "n": 1e2, "big": 1e400}]',
    // a key JSON.parse moves first: written as it came too (normalize reads it in text order)
    "/index_key": '[{"b": 1, "2": 2}]',
  };
  const server = startServer((_req, url) =>
    new Response(bodies[url.pathname] ?? "[]", { headers: { "content-type": "application/json" } })
  );
  const dir = await packageDir();
  try {
    await extract(
      catalog([
        resource("asis"),
        resource("pretty"),
        resource("bom"),
        resource("wrapped", {
          endpoint: { method: "GET", path: "wrapped", data_selector: "data" },
        }),
        resource("parents"),
        resource("lists"),
        resource("exact"),
        resource("index_key"),
        resource("kids", {
          parent: "parents",
          includeFromParent: ["id"],
          endpoint: { method: "GET", path: "parents/{resources.parents.id}/kids" },
        }),
      ]),
      { source: source({ api_key: TOKEN }), baseUrl: server.origin, packageDir: dir },
    );
    const fileOf = async (table: string) => {
      const f = [...Deno.readDirSync(join(dir, "new_jobs"))].find((e) =>
        e.name.startsWith(`${table}.`)
      )!;
      return await Deno.readTextFile(join(dir, "new_jobs", f.name));
    };
    assert.equal(await fileOf("asis"), asReceived + "\n", "written byte for byte");
    const recordLines = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
    for (const table of ["pretty", "bom", "wrapped"]) {
      assert.equal(await fileOf(table), recordLines, `${table}: one line per record`);
    }
    assert.equal(await fileOf("lists"), '{"id":1}\n[{"id":2},{"id":3}]\n');
    assert.equal(await fileOf("exact"), '{"id":1,"n":100.0,"big":null}\n');
    assert.equal(await fileOf("index_key"), '[{"b": 1, "2": 2}]\n');
    const jobs = await readJobs(dir);
    assert.deepEqual(jobs.asis, records);
    assert.deepEqual(jobs.kids, records.map((r) => ({ ...r, _parents_id: 7 })));
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extract() without a token for a catalog that authenticates warns that only public data comes", async () => {
  await using gitlab = await startFakeGitlab({});
  const warned: string[] = [];
  const cat = catalog([projects()], { auth: { type: "api_key", name: "PRIVATE-TOKEN" } });
  await run(cat, gitlab.url, {
    source: source({ projects: ["1"] }),
    onWarning: (w) => warned.push(w),
  })
    .catch(() => {});
  assert.match(warned[0] ?? "", /^No GitLab token is set .*only public projects/);
  // with one, no such warning
  warned.length = 0;
  await run(cat, gitlab.url, { onWarning: (w) => warned.push(w) });
  assert.deepEqual(warned, []);
});

Deno.test("extract() without a token and without projects or groups stops before any request", async () => {
  await using gitlab = await startFakeGitlab({});
  const auth = { auth: { type: "api_key", name: "PRIVATE-TOKEN" } } as const;
  const cat = catalog([projects({ scope: "projects" })], auth);
  const err = await run(cat, gitlab.url, { source: source({}) }).then(() => undefined, (e) => e);
  // anonymously, "the token's projects" are every public project of the instance
  assert.ok(err instanceof UserError, String(err));
  assert.match(err.message, /"projects" without a GitLab token and without projects or groups/);
  assert.match(err.message, /every public project of http:\/\/127\.0\.0\.1:\d+\. Set the token/);
  assert.match(err.message, /SOURCES__GITLAB__API_KEY.*SOURCES__GITLAB__GROUPS/);
  assert.equal(gitlab.requests.length, 0, "no request sent");
  // a configured group (or project) names what to read: the run goes on, anonymously
  const ok = await run(cat, gitlab.url, { source: source({ groups: ["acme"] }) })
    .then(() => "ran", (e) => e);
  assert.ok(!(ok instanceof UserError), String(ok));
});

Deno.test("extract() that reaches no GitLab at all asks whether base_url is right", async () => {
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const err = await run(catalog([projects()]), `http://127.0.0.1:${port}/api/v4`)
    .then(() => undefined, (e) => e);
  assert.ok(err instanceof HttpError, String(err));
  assert.match(
    err.message,
    new RegExp(
      `is sources\\.gitlab\\.base_url \\(http://127\\.0\\.0\\.1:${port}/api/v4\\) the address of your GitLab\\?$`,
    ),
  );
});

Deno.test("a child series skipped on 403/404 keeps the incremental cursors over it, so the next run reads it again", async () => {
  await using gitlab = await startFakeGitlab({});
  const incremental = {
    cursor_path: "updated_at",
    initial_value: "2000-01-01T00:00:00Z",
    start_param: "updated_after",
  };
  const cat = catalog([projects(), issues({ endpoint: { ...issues().endpoint, incremental } })]);
  const withNotes = catalog([
    projects(),
    issues({ endpoint: { ...issues().endpoint, incremental } }),
    issueNotes(),
  ]);
  const perProject = (state: ResourcesState) =>
    Object.keys(
      (state.issues?.[PER_PARENT_KEY] ?? {}) as Record<string, unknown>,
    ).sort((a, b) => Number(a) - Number(b));
  // a clean run: a cursor per project with issues
  const clean: ResourcesState = {};
  const first = new Cursors(clean);
  await run(cat, gitlab.url, { cursors: first });
  first.commit();
  const every = perProject(clean);
  assert.ok(every.includes("1") && every.includes("2"), every.join());

  // A: page 2 of project 1's issues answers 404: that series' cursor stays
  gitlab.faults.push({
    kind: "status",
    status: 404,
    match: (r) => r.path === "/projects/1/issues" && r.url.searchParams.get("page") === "2",
  });
  let state: ResourcesState = {};
  let cursors = new Cursors(state);
  let { info } = await run(cat, gitlab.url, { cursors });
  cursors.commit();
  // page 1 was read and is loaded: the warning says so, not "Skipped"
  const a = info.warnings.find((w) =>
    w.startsWith('Read only the first 1 page of resource "issues" for projects record id 1')
  );
  assert.ok(a?.includes('the incremental cursor of "issues" over it stays where it was'), a);
  assert.deepEqual(perProject(state), every.filter((id) => id !== "1"));

  // B: one issue's notes answer 404: the cursor of its project's issues stays
  const issue = all(gitlab.data.issues).find((i) => i.project_id === 2)!;
  gitlab.faults.push({
    kind: "status",
    status: 404,
    match: `/projects/2/issues/${issue.iid}/notes`,
  });
  state = {};
  cursors = new Cursors(state);
  ({ info } = await run(withNotes, gitlab.url, { cursors }));
  cursors.commit();
  const b = info.warnings.find((w) => w.startsWith('Skipped resource "issue_notes"'));
  assert.ok(b?.includes('the incremental cursor of "issues" over it stays where it was'), b);
  assert.deepEqual(perProject(state), every.filter((id) => id !== "2"));
});

Deno.test("a 404 from another origin or on a CI job token says why it may not mean missing", async () => {
  // GitLab behind a proxy links to its external_url: there the token is not sent, and GitLab
  // answers 404 for a private project
  const other = startServer(() =>
    new Response(JSON.stringify({ message: "404 Project Not Found" }), { status: 404 })
  );
  try {
    await using gitlab = await startFakeGitlab({ linkBase: `${other.origin}/api/v4` });
    const err = await run(catalog([projects()]), gitlab.url).then(() => undefined, (e) => e);
    assert.ok(err instanceof HttpError && err.status === 404, String(err));
    assert.match(
      err.message,
      /404 Project Not Found.*; the URL is outside base_url .* so no token was sent, and GitLab answers 404 for what is not public: set sources\.gitlab\.base_url/,
    );
  } finally {
    await other.close();
  }
  // a job token cannot read the project record: GitLab answers 404
  await using gitlab = await startFakeGitlab({ jobToken: "ci-job-token-xyz" });
  const project = resource("project", {
    paginator: GITLAB,
    endpoint: { method: "GET", path: "projects/1" },
  });
  const err = await run(catalog([project]), gitlab.url, {
    source: source({ job_token: "ci-job-token-xyz" }),
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof HttpError && err.status === 404, String(err));
  assert.match(err.message, /404 .*; a CI job token reaches only some endpoints/);
});
