/**
 * Every catalog rule has a failing input whose exact message is checked by a golden file in
 * `tests/testdata/golden/catalog/` (`UPDATE_GOLDEN=1` rewrites them).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { CatalogError, exitCodeOf } from "../../lib/common/errors.ts";
import { loadCatalog, parseCatalog } from "../../lib/catalog/mod.ts";
import { assertGolden, catalogError } from "./_golden.ts";

/** Removes the common indentation of a template literal and its first empty line. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, "");
  const indent = Math.min(
    ...text.split("\n").filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length),
  );
  return text.split("\n").map((l) => l.slice(indent)).join("\n");
}

const CLIENT = "client:\n  paginator: gitlab\n";

const cases: Record<string, string> = {
  yaml_syntax: yaml`
    client: {paginator: gitlab
    resources:
      - name: projects
        endpoint: "projects
  `,
  yaml_duplicate_key: yaml`
    client: {}
    resources:
      - name: projects
        name: issues
  `,
  empty_file: "# nothing here\n",
  not_a_map: "- projects\n- issues\n",
  missing_client_and_resources: "source_name: gitlab\n",
  unknown_key_did_you_mean: CLIENT + yaml`
    resources:
      - name: issues
        endpoint:
          path: issues
          paginater: gitlab
  `,
  unknown_key_top_level: yaml`
    client: {}
    resource:
      - projects
    sourcename: gitlab
  `,
  unknown_key_no_suggestion: CLIENT + yaml`
    resources:
      - name: projects
        endpoint:
          path: projects
          colour: blue
  `,
  unsupported_key: yaml`
    client:
      session: shared
    resources:
      - name: projects
        references: []
        endpoint:
          path: projects
          data: {a: 1}
  `,
  // Python callables cannot be written in YAML; scd2 is not implemented: refused with why,
  // never loaded as something else
  unsupported_dlt_features: CLIENT + yaml`
    resources:
      - name: projects
        processing_steps:
          - filter: "lambda x: x['kind'] == 'odd'"
      - name: groups
        write_disposition: {disposition: merge, strategy: scd2}
      - name: users
        write_disposition:
          disposition: merge
          validity_column_names: [from, to]
          deduplicated: true
  `,
  // dlt's Incremental.on_resolved refuses ranges that cannot hold anything
  incremental_range: CLIENT + yaml`
    resources:
      - name: projects
        endpoint:
          incremental: {cursor_path: updated_at, end_value: "2024-02-01T00:00:00Z"}
      - name: groups
        endpoint:
          incremental:
            cursor_path: updated_at
            initial_value: "2024-03-01T00:00:00Z"
            end_value: "2024-02-01T00:00:00Z"
      - name: users
        endpoint:
          incremental: {cursor_path: id, initial_value: 5, end_value: 10, last_value_func: min}
      - name: events
        endpoint:
          incremental: {cursor_path: id, initial_value: 5, end_value: 10}
  `,
  wrong_types: CLIENT + yaml`
    max_table_nesting: two
    resources:
      - name: projects
        selected: "yes"
        primary_key: {id: 1}
        max_table_nesting: -1
        include_from_parent: id
        endpoint:
          method: PUT
          headers: [a, b]
          params:
            ids: {a: 1}
  `,
  enum_did_you_mean: CLIENT + yaml`
    resources:
      - name: projects
        write_disposition: mrege
        scope: project
  `,
  write_disposition_object: CLIENT + yaml`
    resource_defaults:
      write_disposition: {disposition: append, strategy: scd2}
    resources:
      - name: projects
        write_disposition: {strategy: upsert}
      - name: groups
        write_disposition: {disposition: replace, strategy: upsert}
  `,
  resource_shapes: CLIENT + yaml`
    resources:
      - 42
      - endpoint: projects
      - name: [a]
      - name: ok
        endpoint: 7
  `,
  paginator_types: yaml`
    client:
      paginator: {type: header_links}
    resources:
      - name: a
        endpoint: {path: a, paginator: offset}
      - name: b
        endpoint:
          path: b
          paginator: {type: offset, offset_param: start}
      - name: c
        endpoint:
          path: c
          paginator: {type: page_number, links_next_key: next, maximum_page: 1.5}
      - name: d
        endpoint:
          path: d
          paginator: {page_param: page}
  `,
  auth: yaml`
    client:
      auth:
        type: api_key
        location: cookie
        api_key: 12345
        token: x
    resources: [projects]
  `,
  auth_unsupported: yaml`
    client:
      auth: {type: oauth2_client_credentials, client_id: x}
    resources: [projects]
  `,
  auth_string_unsupported: yaml`
    client:
      auth: oauth2_client_credentials
    resources: [projects]
  `,
  incremental: CLIENT + yaml`
    resources:
      - name: issues
        endpoint:
          path: issues
          incremental:
            cursor_pth: updated_at
            last_value_func: maximum
            convert: str
  `,
  response_actions: CLIENT + yaml`
    resources:
      - name: issues
        endpoint:
          path: issues
          response_actions:
            - {status_code: 404, action: skip}
            - {content: gone}
  `,
  columns: CLIENT + yaml`
    resources:
      - name: issues
        columns:
          title: {data_type: string, nullable: false, x-custom: 1}
          body: {datatype: text}
        schema_contract: {tables: evolve, columns: frozen}
  `,
  fill_me_in: CLIENT + yaml`
    resources:
      - name: avatar
        endpoint:
          path: /avatar
          params:
            email: FILL_ME_IN
          json: {query: {q: FILL_ME_IN}}
  `,
  unknown_parent: CLIENT + yaml`
    resources:
      - projects
      - name: issues
        endpoint: projects/{resources.project.id}/issues
      - name: jobs
        endpoint:
          path: jobs/{job_id}
          params:
            job_id: {type: resolve, resource: issuess, field: id}
  `,
  two_parents: CLIENT + yaml`
    resources:
      - projects
      - groups
      - name: members
        endpoint:
          path: projects/{resources.projects.id}/members
          params:
            group: "{resources.groups.id}"
  `,
  cycle: CLIENT + yaml`
    resources:
      - name: a
        endpoint: a/{resources.c.id}
      - name: b
        endpoint: b/{resources.a.id}
      - name: c
        endpoint: c/{resources.b.id}
      - name: self
        endpoint: self/{resources.self.id}
  `,
  unbound_path_placeholder: CLIENT + yaml`
    resources:
      - name: issues
        endpoint: projects/{id}/issues
      - name: notes
        endpoint:
          path: "projects/{project_id}/issues/{iid}/notes"
          params:
            iid: 5
  `,
  bad_placeholders: CLIENT + yaml`
    resources:
      - projects
      - name: issues
        endpoint:
          path: projects/{resources.projects}/issues
          params:
            updated_after: "{incremental.start_value}"
            created_after: "{incremental.start}"
  `,
  duplicate_names: CLIENT + yaml`
    resources:
      - projects
      - name: issues
      - name: projects
        table_name: projects_again
  `,
  include_from_parent_without_parent: CLIENT + yaml`
    resources:
      - name: projects
        include_from_parent: [id]
  `,
  columns_list_without_name: CLIENT + yaml`
    resources:
      - name: issues
        columns:
          - {name: title, data_type: text}
          - {data_type: bigint}
          - title
  `,
  unknown_anchor: CLIENT + yaml`
    resources:
      - *nope
  `,
  // JSONPaths outside the subset gitlab-pg reads: told with their line, not when a run uses them
  json_paths_that_cannot_be_read: CLIENT + yaml`
    resources:
      - name: a
        endpoint:
          path: a
          data_selector: "payload[?("
          paginator: {type: json_link, next_url_path: "[[bad"}
      - name: b
        endpoint:
          path: b
          data_selector: "$..rows"
          incremental: {cursor_path: "a..[b", initial_value: 1}
          paginator: {type: offset, limit: 10, total_path: "meta[x"}
  `,
  yaml_second_document: yaml`
    client: {}
    resources: [projects]
    ---
    foo: 1
  `,
  no_resources: "client: {}\nresources: []\n",
  // names that make no table, or one of dlt's: refused here, not by a load that fails each run
  table_names_that_make_no_table: CLIENT + yaml`
    resources:
      - name: ""
        endpoint: {path: projects}
      - name: blank
        table_name: " "
        endpoint: {path: projects}
      - name: dunder
        table_name: "__"
        endpoint: {path: projects}
      - name: loads
        table_name: _dlt_loads
        endpoint: {path: projects}
      - name: _DLT_version
        endpoint: {path: projects}
  `,
};

for (const [name, text] of Object.entries(cases)) {
  Deno.test(`parseCatalog() reports ${name.replaceAll("_", " ")}`, async () => {
    const error = catalogError(text);
    equal(exitCodeOf(error), 2);
    await assertGolden(name, error.message);
  });
}

Deno.test("parseCatalog() reports line and column of an unknown key", () => {
  const error = catalogError(cases.unknown_key_did_you_mean, "resources/gitlab.yaml");
  deepEqual(error.problems, [{
    file: "resources/gitlab.yaml",
    line: 7,
    col: 7,
    message: 'Cannot read resource "issues": unknown key "paginater" (did you mean "paginator"?)',
    sourceLine: "      paginater: gitlab",
  }]);
});

Deno.test("parseCatalog() points at a placeholder inside a string", () => {
  const error = catalogError(cases.unknown_parent);
  const [first] = error.problems;
  equal(first.line, 6);
  equal(first.sourceLine!.slice(first.col - 1), "{resources.project.id}/issues");
});

Deno.test("parseCatalog() masks secret values in source lines", () => {
  const error = catalogError(cases.auth);
  const line = error.problems.find((p) => p.message.includes('"auth.api_key"'))!;
  equal(line.sourceLine, "    api_key: ***");
  ok(!error.message.includes("12345"));
});

Deno.test("parseCatalog() reports all problems of a file at once, in file order", async () => {
  const file = new URL("../testdata/catalogs/multi_problem.yaml", import.meta.url);
  const error = await loadCatalog(file, { file: "multi_problem.yaml" }).then(
    () => undefined,
    (e) => e,
  );
  ok(error instanceof CatalogError);
  const positions = error.problems.map((p) => [p.line, p.col]);
  const sorted = [...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  deepEqual(positions, sorted);
  deepEqual(positions, [[11, 5], [12, 5], [16, 24], [21, 7], [25, 22], [28, 24], [32, 15], [
    34,
    9,
  ]]);
  ok(error.message.endsWith("\n8 problems found"));
  await assertGolden("multi_problem", error.message);
});

Deno.test("parseCatalog() stops after YAML syntax errors", () => {
  const error = catalogError(cases.yaml_syntax);
  ok(error.problems.every((p) => p.message.startsWith("Cannot parse YAML: ")));
});

Deno.test("parseCatalog() accepts a valid catalog after the failing ones", () => {
  const catalog = parseCatalog(CLIENT + "resources: [projects]\n");
  equal(catalog.resources.length, 1);
});
