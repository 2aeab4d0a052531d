import assert from "node:assert/strict";
import { scopeSeries } from "../../lib/extract/scope.ts";

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
