import assert from "node:assert/strict";
import { loadCatalog } from "../../lib/catalog/load.ts";
import { scopeSeries } from "../../lib/extract/scope.ts";
import { startFakeGitlab } from "../fake_gitlab/mod.ts";
import { run, source, TOKEN } from "./_helpers.ts";

const base = {
  request: { url: "projects", params: { membership: true, per_page: 100, statistics: true } },
  paginator: { type: "gitlab" },
};

Deno.test("scopeSeries(projects) reads configured projects and groups", () => {
  const s = scopeSeries("projects", { projects: ["g/app", "42"], groups: ["acme/sub"] }, base);
  assert.deepEqual(s.map((x) => x.request.url), [
    "projects/g%2Fapp",
    "projects/42",
    "groups/acme%2Fsub/projects",
  ]);
  assert.deepEqual(s[0].request.params, { statistics: true });
  assert.deepEqual(s[0].paginator, { type: "single_page" });
  assert.equal(s[0].dataSelector, "$");
  assert.deepEqual(s[2].request.params, {
    per_page: 100,
    statistics: true,
    include_subgroups: true,
  });
  assert.deepEqual(s[2].paginator, { type: "gitlab" });
  assert.deepEqual(scopeSeries("projects", { projects: [], groups: [] }, base), [base]);
});

Deno.test("scopeSeries(groups) reads configured groups and their descendants", () => {
  const g = { request: { url: "groups", params: { all_available: true } } };
  const s = scopeSeries("groups", { projects: [], groups: ["acme"] }, g);
  assert.deepEqual(s.map((x) => x.request.url), ["groups/acme", "groups/acme/descendant_groups"]);
  assert.deepEqual(scopeSeries("groups", { projects: ["a/b"], groups: [] }, g), []);
  assert.deepEqual(scopeSeries("groups", { projects: [], groups: [] }, g), [g]);
});

Deno.test("the default catalog reads projects past GitLab's offset cap (keyset pages)", async () => {
  // GitLab answers 405 to offset pages of projects beyond offset_pagination_limit (50,000 by
  // default; here 100): the membership list and a group's projects page by keyset instead
  const size = {
    groups: 1,
    subgroupsPerGroup: 0,
    projectsPerGroup: 250,
    issuesPerProject: 0,
    mergeRequestsPerProject: 0,
    pipelinesPerProject: 0,
  };
  await using gitlab = await startFakeGitlab({ size, maxOffset: 100 });
  const catalog = await loadCatalog();
  const group = gitlab.data.groups[0];
  for (const groups of [[String(group.id)], []]) {
    const { info } = await run(catalog, gitlab.url, {
      source: source({ api_key: TOKEN, groups }),
      resources: ["projects"],
    });
    assert.ok(info.tables.projects > 100, `${info.tables.projects} projects (groups: ${groups})`);
    if (groups.length) assert.equal(info.tables.projects, 250);
  }
  assert.ok(gitlab.requests.every((r) => r.status === 200), "no 405");
});
