import assert from "node:assert/strict";
import { UserError } from "../../lib/common/errors.ts";
import {
  buildRequest,
  expandJson,
  expandTemplate,
  includeFromParent,
  parentOf,
} from "../../lib/extract/resolve.ts";
import { resource } from "./_helpers.ts";

const project = { id: 7, path_with_namespace: "group/sub/proj", namespace: { id: 3 } };
const parent = { name: "projects", record: project };

Deno.test("buildRequest() fills {resources.<parent>.<field>} in path, params, json, headers", () => {
  const r = resource("issues", {
    path: "projects/{resources.projects.path_with_namespace}/issues",
    endpoint: {
      method: "POST",
      path: "projects/{resources.projects.path_with_namespace}/issues",
      params: { ns: "{resources.projects.namespace.id}", state: "all", n: 5 },
      json: { id: "{resources.projects.id}", text: "p-{resources.projects.id}", lit: "{{x}}" },
      headers: { "X-Project": "{resources.projects.id}" },
    },
  });
  const req = buildRequest(r, { parent });
  assert.equal(req.url, "projects/group%2Fsub%2Fproj/issues");
  assert.equal(req.method, "POST");
  assert.deepEqual(req.params, { ns: 3, state: "all", n: 5 });
  assert.deepEqual(req.json, { id: 7, text: "p-7", lit: "{x}" });
  assert.deepEqual(req.headers, { "X-Project": "7" });
  assert.equal(parentOf(r), "projects");
});

Deno.test("buildRequest() applies legacy resolve bindings to the path and to a query param", () => {
  const r = resource("notes", {
    path: "projects/{project_id}/notes",
    endpoint: {
      method: "GET",
      path: "projects/{project_id}/notes",
      params: {
        project_id: { type: "resolve", resource: "projects", field: "path_with_namespace" },
        ns: { type: "resolve", resource: "projects", field: "$.namespace.id" },
        sort: "asc",
      },
    },
    resolve: [
      {
        placeholder: "project_id",
        resource: "projects",
        field: "path_with_namespace",
        inQuery: false,
      },
      {
        placeholder: "ns",
        resource: "projects",
        field: "$.namespace.id",
        inQuery: true,
        param: "ns",
      },
    ],
  });
  const req = buildRequest(r, { parent });
  assert.equal(req.url, "projects/group%2Fsub%2Fproj/notes");
  assert.deepEqual(req.params, { sort: "asc", ns: 3 });
  assert.equal(parentOf(r), "projects");
});

Deno.test("expandTemplate() keeps {{ }} literal and rejects unknown placeholders", () => {
  const ctx = { parent, resource: "x", where: "path" };
  assert.equal(expandTemplate("a{{b}}c/{resources.projects.id}", ctx, true), "a{b}c/7");
  assert.throws(
    () => expandTemplate("{nope}", ctx),
    /Cannot resolve "\{nope\}" in path of resource "x": unknown placeholder/,
  );
  assert.deepEqual(expandJson(["{resources.projects.namespace}"], { ...ctx, where: "json" }), [{
    id: 3,
  }]);
});

Deno.test("a missing parent field names resource, field and parent", () => {
  const r = resource("issues", { path: "projects/{resources.projects.iid}/issues" });
  assert.throws(
    () => buildRequest(r, { parent }),
    (e) =>
      e instanceof UserError &&
      e.message ===
        'Cannot resolve "{resources.projects.iid}" in path of resource "issues": field "iid" is missing in the record of parent resource "projects" (id 7 "group/sub/proj")',
  );
});

Deno.test("includeFromParent() adds _<parent>_<field>", () => {
  assert.deepEqual(includeFromParent({ id: 1 }, parent, ["id", "path_with_namespace"]), {
    id: 1,
    _projects_id: 7,
    _projects_path_with_namespace: "group/sub/proj",
  });
  assert.throws(
    () => includeFromParent({ id: 1 }, parent, ["nope"]),
    /Cannot include field "nope"/,
  );
});
