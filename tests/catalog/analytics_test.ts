/**
 * The analytics catalog, resources/gitlab.yaml: every table with its documented primary key,
 * parent, parent fields copied in, incremental cursor and description; and the same list as
 * `gitlab-pg catalog --json` prints it.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { loadCatalog } from "../../lib/catalog/mod.ts";
import { runCli } from "../helpers/cli.ts";

/** name → [primary key, parent, include_from_parent, incremental cursor, start_param]. */
const TABLES: Record<string, [string[], string | null, string[], string | null, string | null]> = {
  projects: [["id"], null, [], null, null],
  groups: [["id"], null, [], null, null],
  issues: [["id"], "projects", [], "updated_at", "updated_after"],
  issue_notes: [["id"], "issues", [], null, null],
  merge_requests: [["id"], "projects", [], "updated_at", "updated_after"],
  merge_request_notes: [["id"], "merge_requests", [], null, null],
  merge_request_commits: [["_merge_requests_id", "id"], "merge_requests", ["id"], null, null],
  pipelines: [["id"], "projects", [], "updated_at", "updated_after"],
  jobs: [["id"], "pipelines", ["project_id"], null, null],
  commits: [["_projects_id", "id"], "projects", ["id"], "created_at", "since"],
  branches: [["_projects_id", "name"], "projects", ["id"], null, null],
  tags: [["_projects_id", "name"], "projects", ["id"], null, null],
  releases: [["_projects_id", "tag_name"], "projects", ["id"], null, null],
  milestones: [["id"], "projects", [], "updated_at", "updated_after"],
  labels: [["_projects_id", "id"], "projects", ["id"], null, null],
  project_members: [["_projects_id", "id"], "projects", ["id"], null, null],
  group_members: [["_groups_id", "id"], "groups", ["id"], null, null],
  users: [["id"], "projects", [], null, null],
  deployments: [["id"], "projects", ["id"], "updated_at", "updated_after"],
  environments: [["id"], "projects", ["id"], null, null],
  events: [["id"], "projects", [], null, null],
};

Deno.test("the default catalog has every analytics table with its key, parent and cursor", async () => {
  const catalog = await loadCatalog();
  deepEqual(catalog.resources.map((r) => r.name), Object.keys(TABLES));
  for (const r of catalog.resources) {
    const [key, parent, fromParent, cursor, startParam] = TABLES[r.name];
    const got = [
      r.primaryKey,
      r.parent ?? null,
      r.includeFromParent,
      r.endpoint.incremental?.cursor_path ?? null,
      r.endpoint.incremental?.start_param ?? null,
    ];
    deepEqual(got, [key, parent, fromParent, cursor, startParam], r.name);
    equal(r.tableName, r.name);
    equal(r.writeDisposition, "merge", r.name);
    equal(r.selected, true, r.name);
    equal(r.endpoint.params?.per_page, 100, r.name);
    ok(r.description && r.description.length > 10, `${r.name} has a description`);
    // A composite key names the parent fields it copies in: `_<parent>_<field>`.
    for (const column of key.filter((k) => k.startsWith("_"))) {
      ok(fromParent.some((f) => column === `_${parent}_${f}`), `${r.name}: ${column}`);
    }
  }
});

Deno.test("the default catalog scopes groups and projects and orders deployments for updated_after", async () => {
  const catalog = await loadCatalog();
  const r = Object.fromEntries(catalog.resources.map((x) => [x.name, x]));
  equal(r.projects.scope, "projects");
  equal(r.groups.scope, "groups");
  equal(r.groups.endpoint.params?.with_projects, false);
  equal(r.deployments.endpoint.params?.order_by, "updated_at");
  equal(r.group_members.endpoint.path, "groups/{resources.groups.id}/members");
  equal(r.users.endpoint.path, "projects/{resources.projects.id}/users");
  equal(
    r.merge_request_commits.endpoint.path,
    "projects/{resources.merge_requests.project_id}/merge_requests/{resources.merge_requests.iid}/commits",
  );
});

Deno.test("gitlab-pg catalog --json lists every table of the default catalog", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const out = await runCli(["catalog", "--json"], { cwd });
    equal(out.code, 0, out.stderr);
    const rows: { name: string; primary_key: string[]; parent: string | null }[] = JSON.parse(
      out.stdout,
    );
    deepEqual(
      rows.map((row) => [row.name, row.primary_key, row.parent]),
      Object.entries(TABLES).map(([name, [key, parent]]) => [name, key, parent]),
    );
    // with the catalog's descriptions
    const issues = (rows as unknown as { name: string; description: string | null }[])
      .find((r) => r.name === "issues");
    equal(typeof issues?.description, "string");
    // and an embedded catalog is checked by name, as --catalog takes it
    const seed = await runCli(["catalog", "check", "seed"], { cwd });
    equal(seed.code, 0, seed.stderr);
    equal(seed.stdout.trim().startsWith("resources/seed.yaml: OK, "), true, seed.stdout);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
