/**
 * The catalog after all phases: the real default catalog, dlt's defaults, legacy resolve,
 * single-entity detection, the seed's source, selection.
 */

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { CatalogError, UserError } from "../../lib/common/errors.ts";
import {
  type Catalog,
  defaultCatalogPath,
  isSingleEntityPath,
  loadCatalog,
  parseCatalog,
  type ResolvedResource,
  selectResources,
} from "../../lib/catalog/mod.ts";
import { assertGolden } from "./_golden.ts";

function byName(catalog: Catalog): Record<string, ResolvedResource> {
  return Object.fromEntries(catalog.resources.map((r) => [r.name, r]));
}

const SEED = new URL("../testdata/catalogs/seed_source.yaml", import.meta.url);

Deno.test("loadCatalog() reads the default catalog into the expected resource graph", async () => {
  const catalog = await loadCatalog();
  equal(catalog.file, "resources/gitlab.yaml");
  equal(catalog.sourceName, "gitlab");
  equal(catalog.maxTableNesting, 2);
  deepEqual(catalog.client, {
    auth: { type: "api_key", name: "PRIVATE-TOKEN", location: "header" },
    paginator: { type: "gitlab" },
  });
  deepEqual(
    catalog.resources.map((r) => [r.name, r.parent ?? null]),
    [
      ["projects", null],
      ["groups", null],
      ["issues", "projects"],
      ["issue_notes", "issues"],
      ["merge_requests", "projects"],
      ["merge_request_notes", "merge_requests"],
      ["merge_request_commits", "merge_requests"],
      ["pipelines", "projects"],
      ["jobs", "pipelines"],
      ...["commits", "branches", "tags", "releases", "milestones", "labels", "project_members"]
        .map((n) => [n, "projects"]),
      ["group_members", "groups"],
      ...["users", "deployments", "environments", "events"].map((n) => [n, "projects"]),
    ],
  );
  const r = byName(catalog);
  for (const resource of catalog.resources) {
    equal(resource.writeDisposition, "merge");
    equal(resource.mergeStrategy, "delete-insert");
    ok(resource.primaryKey.length > 0); // each key: tests/catalog/analytics_test.ts
    equal(resource.tableName, resource.name);
    equal(resource.selected, true);
    equal(resource.endpoint.method, "GET");
    equal(resource.endpoint.params?.per_page, 100);
    deepEqual(resource.paginator, { type: "gitlab" });
    ok(resource.description, `${resource.name} has a description`);
  }
  equal(r.projects.scope, "projects");
  deepEqual(r.projects.endpoint.params, {
    per_page: 100,
    membership: true,
    pagination: "keyset",
    order_by: "id",
    sort: "asc",
  });
  equal(r.issues.endpoint.params?.scope, "all");
  equal(r.merge_requests.endpoint.params?.scope, "all");
  deepEqual(r.issue_notes.resolve, [
    {
      placeholder: "resources.issues.project_id",
      resource: "issues",
      field: "project_id",
      inQuery: false,
    },
    { placeholder: "resources.issues.iid", resource: "issues", field: "iid", inQuery: false },
  ]);
  deepEqual(r.jobs, {
    name: "jobs",
    tableName: "jobs",
    writeDisposition: "merge",
    mergeStrategy: "delete-insert",
    primaryKey: ["id"],
    mergeKey: [],
    columns: {},
    selected: true,
    endpoint: {
      params: { per_page: 100 },
      path: "projects/{resources.pipelines.project_id}/pipelines/{resources.pipelines.id}/jobs",
      method: "GET",
    },
    paginator: { type: "gitlab" },
    parent: "pipelines",
    resolve: [
      {
        placeholder: "resources.pipelines.project_id",
        resource: "pipelines",
        field: "project_id",
        inQuery: false,
      },
      { placeholder: "resources.pipelines.id", resource: "pipelines", field: "id", inQuery: false },
    ],
    includeFromParent: ["project_id"],
    description: "Jobs of each pipeline; `_pipelines_project_id` tells the project",
  });
});

Deno.test("defaultCatalogPath() is found relative to the module, not the working directory", async () => {
  const url = defaultCatalogPath();
  equal(url.protocol, "file:");
  ok(url.pathname.endsWith("/resources/gitlab.yaml"));
  const cwd = Deno.cwd();
  Deno.chdir(await Deno.makeTempDir());
  try {
    equal((await loadCatalog()).resources.length, 21);
  } finally {
    Deno.chdir(cwd);
  }
});

Deno.test("loadCatalog() reports a missing file as a UserError", async () => {
  await rejects(
    loadCatalog("/nonexistent/catalog.yaml"),
    (e) =>
      e instanceof UserError &&
      e.message === 'Cannot read catalog "/nonexistent/catalog.yaml": file not found',
  );
});

Deno.test("parseCatalog() merges resource_defaults as dlt does", () => {
  const catalog = parseCatalog(`
client:
  paginator: header_link
resource_defaults:
  primary_key: id
  write_disposition: {disposition: merge, strategy: upsert}
  max_table_nesting: 0
  columns:
    title: {data_type: text, nullable: false}
  endpoint:
    params: {per_page: 100, state: all}
    json: {filter: {a: 1}, keep: true}
    data_selector: items
    path: not_for_resources  # dlt fills a missing path with the name first
resources:
  - issues
  - name: mrs
    primary_key: [project_id, iid]
    table_name: merge_requests
    columns:
      title: {nullable: true}
      body: {data_type: text}
    endpoint:
      path: projects/1/merge_requests
      method: POST
      params: {state: opened}
      json: {filter: {b: 2}}
  - name: labels
    write_disposition: replace
    endpoint: {}
  - name: events
`);
  const r = byName(catalog);
  // String form: name and path; every default applies.
  deepEqual(r.issues.endpoint, {
    params: { per_page: 100, state: "all" },
    json: { filter: { a: 1 }, keep: true },
    data_selector: "items",
    path: "issues",
    method: "GET",
  });
  deepEqual(r.issues.primaryKey, ["id"]);
  equal(r.issues.tableName, "issues");
  equal(r.issues.writeDisposition, "merge");
  equal(r.issues.mergeStrategy, "upsert");
  equal(r.issues.maxTableNesting, 0);
  deepEqual(r.issues.paginator, { type: "header_link" });
  // params and json merged key by key (the resource wins), columns hint by hint.
  deepEqual(r.mrs.endpoint, {
    params: { per_page: 100, state: "opened" },
    json: { filter: { b: 2 }, keep: true },
    data_selector: "items",
    path: "projects/1/merge_requests",
    method: "POST",
  });
  deepEqual(r.mrs.columns, {
    title: { data_type: "text", nullable: true },
    body: { data_type: "text" },
  });
  deepEqual(r.mrs.primaryKey, ["project_id", "iid"]);
  equal(r.mrs.tableName, "merge_requests");
  // Missing path → the name; other keys shallow.
  equal(r.labels.endpoint.path, "labels");
  equal(r.events.endpoint.path, "events");
  equal(r.labels.writeDisposition, "replace");
  equal(r.labels.mergeStrategy, undefined);
});

Deno.test("parseCatalog() takes columns as a list of hints with their names, as dlt does", () => {
  const catalog = parseCatalog(`
client: {}
resource_defaults:
  columns:
    - {name: title, data_type: text, nullable: false}
resources:
  - name: issues
    columns:
      - {name: title, nullable: true}
      - {name: weight, data_type: bigint}
  - name: labels
`);
  const r = byName(catalog);
  deepEqual(r.issues.columns, {
    title: { name: "title", data_type: "text", nullable: true },
    weight: { name: "weight", data_type: "bigint" },
  });
  deepEqual(r.labels.columns, { title: { name: "title", data_type: "text", nullable: false } });
});

Deno.test("parseCatalog() applies dlt's defaults when nothing is set", () => {
  const catalog = parseCatalog("client: {}\nresources: [projects]\n");
  equal(catalog.sourceName, "gitlab");
  equal(catalog.maxTableNesting, 2);
  deepEqual(catalog.resources, [{
    name: "projects",
    tableName: "projects",
    writeDisposition: "append",
    primaryKey: [],
    mergeKey: [],
    columns: {},
    selected: true,
    endpoint: { path: "projects", method: "GET" },
    resolve: [],
    includeFromParent: [],
  }]);
});

Deno.test("parseCatalog() chooses the paginator: endpoint > resource_defaults > client", () => {
  const resources = `
resources:
  - plain
  - name: own
    endpoint: {paginator: {type: page_number, total_path: null, maximum_page: 5}}
  - name: auto
    endpoint: {paginator: auto}
`;
  const client = byName(parseCatalog(`client: {paginator: gitlab}\n${resources}`));
  deepEqual(client.plain.paginator, { type: "gitlab" });
  deepEqual(client.own.paginator, { type: "page_number", total_path: null, maximum_page: 5 });
  equal(client.auto.paginator, undefined);

  const defaults = byName(parseCatalog(
    `client: {paginator: gitlab}\nresource_defaults: {endpoint: {paginator: header_link}}\n${resources}`,
  ));
  deepEqual(defaults.plain.paginator, { type: "header_link" });
  deepEqual(defaults.own.paginator, { type: "page_number", total_path: null, maximum_page: 5 });

  const none = byName(parseCatalog(`client: {}\n${resources}`));
  equal(none.plain.paginator, undefined);
});

Deno.test("parseCatalog() detects single-entity endpoints", () => {
  const text = (defaults: string) => `
client: {paginator: gitlab}
${defaults}
resources:
  - projects
  - name: project
    endpoint: projects/{resources.projects.id}
  - name: project_selected
    endpoint:
      path: projects/{resources.projects.id}
      data_selector: data
      paginator: header_link
  - name: issues
    endpoint: projects/{resources.projects.id}/issues
`;
  const r = byName(parseCatalog(text("")));
  // The client's paginator is replaced, data_selector defaults to "$".
  deepEqual(r.project.paginator, { type: "single_page" });
  equal(r.project.endpoint.data_selector, "$");
  // The endpoint's own settings win.
  deepEqual(r.project_selected.paginator, { type: "header_link" });
  equal(r.project_selected.endpoint.data_selector, "data");
  // A list endpoint keeps the client's.
  deepEqual(r.issues.paginator, { type: "gitlab" });
  equal(r.issues.endpoint.data_selector, undefined);
  // A resource_defaults paginator is not overridden.
  const d = byName(parseCatalog(text("resource_defaults: {endpoint: {paginator: json_link}}")));
  deepEqual(d.project.paginator, { type: "json_link" });
  equal(d.project.endpoint.data_selector, "$");

  ok(isSingleEntityPath("/groups/{id}/badges/{badge_id}"));
  ok(isSingleEntityPath("projects/{id}/"));
  ok(!isSingleEntityPath("/groups/{id}/badges/render"));
  ok(!isSingleEntityPath("literal/{{braces}}"));
});

Deno.test("parseCatalog() binds legacy resolve params to the path or the query", () => {
  const catalog = parseCatalog(`
client: {}
resources:
  - name: badge
    endpoint:
      path: /groups/{id}/badges/{badge_id}
      params:
        badge_id: {type: resolve, resource: badges, field: id}
        id: 42
        sort: asc
  - name: badges
    endpoint: {path: /groups/7/badges}
  - name: render
    endpoint:
      path: /badges/render
      params:
        badge: {type: resolve, resource: badges, field: $.id}
  - name: events
    endpoint:
      path: /events
      params:
        after: {type: incremental, cursor_path: created_at, initial_value: "2024-01-01"}
`);
  // The parent comes first although declared after its child.
  deepEqual(catalog.resources.map((r) => r.name), ["badges", "badge", "render", "events"]);
  const r = byName(catalog);
  equal(r.badge.parent, "badges");
  // A plain param fills its path placeholder and leaves the params (dlt's _bind_path_params).
  equal(r.badge.endpoint.path, "/groups/42/badges/{badge_id}");
  deepEqual(r.badge.endpoint.params, { sort: "asc" });
  deepEqual(r.badge.resolve, [
    { placeholder: "badge_id", resource: "badges", field: "id", inQuery: false },
  ]);
  deepEqual(r.badge.paginator, { type: "single_page" });
  deepEqual(r.render.resolve, [
    { placeholder: "badge", resource: "badges", field: "$.id", inQuery: true, param: "badge" },
  ]);
  equal(r.render.endpoint.params, undefined);
  // A legacy incremental param becomes endpoint.incremental with start_param.
  deepEqual(r.events.endpoint.incremental, {
    cursor_path: "created_at",
    initial_value: "2024-01-01",
    start_param: "after",
  });
  equal(r.events.endpoint.params, undefined);
});

Deno.test("parseCatalog() accepts the rest of dlt's resource keys", () => {
  const catalog = parseCatalog(`
client:
  base_url: https://gitlab.example.com/api/v4
  headers: {Accept: application/json}
  auth: {type: bearer, token: t0ken}
resources:
  - name: commits
    selected: false
    parallelized: true
    table_format: native
    file_format: jsonl
    merge_key: sha
    schema_contract: {columns: freeze}
    endpoint:
      path: projects/1/repository/commits
      headers: {X-Trace: "1"}
      response_actions:
        - {status_code: 404, action: ignore}
      incremental:
        cursor_path: committed_date
        start_param: since
        end_param: until
        initial_value: "2024-01-01T00:00:00Z"
        end_value: "2024-02-01T00:00:00Z"
        last_value_func: max
        row_order: desc
        lag: 3600
        on_cursor_value_missing: include
        range_start: open
        range_end: closed
        primary_key: [sha]
      params:
        since: "{incremental.start_value}"
`);
  const [commits] = catalog.resources;
  equal(commits.selected, false);
  equal(commits.parallelized, true);
  equal(commits.tableFormat, "native");
  equal(commits.fileFormat, "jsonl");
  deepEqual(commits.mergeKey, ["sha"]);
  deepEqual(commits.schemaContract, { columns: "freeze" });
  equal(commits.endpoint.incremental?.lag, 3600);
  deepEqual(commits.endpoint.response_actions, [{ status_code: 404, action: "ignore" }]);
  deepEqual(catalog.client.auth, { type: "bearer", token: "t0ken" });
});

Deno.test("parseCatalog() reports the FILL_ME_IN values of the seed's source", async () => {
  const text = await Deno.readTextFile(SEED);
  let error: unknown;
  try {
    parseCatalog(text, { file: "seed_source.yaml" });
  } catch (e) {
    error = e;
  }
  ok(error instanceof CatalogError);
  equal(error.problems.length, (text.match(/"FILL_ME_IN"/g) ?? []).length);
  ok(error.problems.every((p) => p.message.includes("required value was never filled in")));
  await assertGolden("seed_source", error.message);
});

Deno.test("parseCatalog() reads the seed's source once FILL_ME_IN values are filled in", async () => {
  const text = (await Deno.readTextFile(SEED)).replaceAll('"FILL_ME_IN"', '"42"');
  const catalog = parseCatalog(text, { file: "seed_source.yaml" });
  equal(catalog.sourceName, "gitlab_source");
  equal(catalog.maxTableNesting, 2);
  equal(catalog.resources.length, 33);
  const r = byName(catalog);
  deepEqual(catalog.client.paginator, {
    type: "page_number",
    page_param: "page",
    total_path: "",
    maximum_page: 20,
  });
  deepEqual(r.get_api_v4_application_appearance.paginator, catalog.client.paginator);
  equal(r.get_api_v4_applications.writeDisposition, "merge");
  equal(r.get_api_v4_application_appearance.writeDisposition, "append");
  equal(r.get_api_v4_avatar.endpoint.params?.email, "42");
  equal(r.list_project_jobs.endpoint.path, "/projects/42/jobs");
  equal(r.get_single_job.parent, "list_project_jobs");
  equal(r.get_single_job.endpoint.path, "/projects/42/jobs/{job_id}");
  deepEqual(r.get_single_job.paginator, { type: "single_page" });
  equal(r.get_api_v4_groups_id_badges_render.endpoint.path, "/groups/{id}/badges/render");
  equal(r.get_api_v4_groups_id_badges_render.parent, "get_api_v4_groups_id_badges");
  const names = catalog.resources.map((x) => x.name);
  for (const resource of catalog.resources) {
    if (resource.parent) ok(names.indexOf(resource.parent) < names.indexOf(resource.name));
  }
});

Deno.test("selectResources() keeps the named resources and their ancestors", async () => {
  const catalog = await loadCatalog();
  const only = selectResources(catalog, ["issue_notes", "pipelines"]);
  deepEqual(
    only.resources.map((r) => [r.name, r.selected]),
    [["projects", false], ["issues", false], ["issue_notes", true], ["pipelines", true]],
  );
  deepEqual(
    selectResources(catalog, ["projects", "jobs"]).resources.map((r) => [r.name, r.selected]),
    [["projects", true], ["pipelines", false], ["jobs", true]],
  );
  equal(selectResources(catalog, []), catalog);
});

Deno.test("selectResources() lists the valid names for an unknown one", async () => {
  const catalog = await loadCatalog();
  throws(
    () => selectResources(catalog, ["isues"]),
    (e) =>
      e instanceof UserError &&
      e.message ===
        'Unknown resource "isues" (did you mean "issues"?): the catalog has "projects", "groups", "issues", "issue_notes", "merge_requests", ' +
          '"merge_request_notes", "merge_request_commits", "pipelines", "jobs", "commits", ' +
          '"branches", "tags", "releases", "milestones", "labels", "project_members", ' +
          '"group_members", "users", "deployments", "environments", "events"',
  );
  throws(
    () => selectResources(catalog, ["a", "b"]),
    (e) =>
      e instanceof UserError && e.message.startsWith('Unknown resources "a", "b": the catalog has'),
  );
});
