import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import {
  applyTableHints,
  bumpVersion,
  cursorColumnName,
  fromStoredJson,
  newSchema,
  pipelineStateTable,
  setMaxNesting,
  type TableHints,
  toExportYaml,
  toStoredJson,
  versionHash,
  writeSchemaExport,
} from "../../lib/schema/mod.ts";
import { dumpYaml } from "../../lib/schema/_yaml.ts";

const issuesHints: TableHints = {
  table: "issues",
  resource: "issues",
  write_disposition: "merge",
  primary_key: ["id"],
  merge_key: [],
  columns: { updated_at: { data_type: "timestamp", incremental: true } },
};

Deno.test("newSchema() has dlt's system tables, settings and normalizers", () => {
  const s = newSchema("gitlab");
  assert.deepEqual(Object.keys(s), [
    "version",
    "version_hash",
    "engine_version",
    "name",
    "tables",
    "settings",
    "normalizers",
    "previous_hashes",
  ]);
  assert.equal(s.version, 1);
  assert.equal(s.engine_version, 11);
  assert.deepEqual(Object.keys(s.tables), ["_dlt_version", "_dlt_loads"]);
  const loads = s.tables._dlt_loads;
  assert.deepEqual(Object.keys(loads), [
    "name",
    "columns",
    "write_disposition",
    "resource",
    "description",
  ]);
  assert.deepEqual(loads.columns.load_id, {
    name: "load_id",
    data_type: "text",
    nullable: false,
    precision: 64,
  });
  assert.deepEqual(Object.keys(s.tables._dlt_version.columns), [
    "version",
    "engine_version",
    "inserted_at",
    "schema_name",
    "version_hash",
    "schema",
  ]);
  assert.equal(s.tables._dlt_version.write_disposition, "skip");
  assert.deepEqual(s.settings.detections, ["iso_timestamp"]);
  assert.deepEqual(Object.keys(s.settings.default_hints!), [
    "not_null",
    "parent_key",
    "root_key",
    "unique",
    "row_key",
  ]);
  assert.deepEqual(s.normalizers, {
    names: "snake_case",
    json: { module: "dlt.common.normalizers.json.relational" },
  });
  assert.equal(s.version_hash, versionHash(s));
  // verified against orjson (OPT_SORT_KEYS) + hashlib.sha3_256 on the same dict
  assert.equal(s.version_hash, "JK3Eu0L+u5jmFZXigXHMX2aCFsASNR3FQHrBTUqfHv8=");
});

Deno.test("pipelineStateTable() has dlt's columns and table hints", () => {
  const t = pipelineStateTable();
  // no description: dlt's state_resource() passes on only columns, disposition and format
  assert.deepEqual(Object.keys(t), [
    "name",
    "columns",
    "write_disposition",
    "file_format",
    "resource",
  ]);
  assert.deepEqual(Object.keys(t.columns), [
    "version",
    "engine_version",
    "pipeline_name",
    "state",
    "created_at",
    "version_hash",
    "_dlt_load_id",
  ]);
  assert.equal(t.write_disposition, "append");
  assert.equal(t.file_format, "preferred");
  assert.equal(t.columns._dlt_load_id.precision, 64);
  assert.equal(t.columns.version_hash.nullable, true);
});

Deno.test("applyTableHints() creates key columns and merge propagation, idempotently", () => {
  const s = newSchema("gitlab");
  applyTableHints(s, issuesHints);
  const issues = s.tables.issues;
  assert.deepEqual(Object.keys(issues), ["name", "columns", "write_disposition", "resource"]);
  assert.deepEqual(Object.keys(issues.columns), ["updated_at", "id"]);
  assert.deepEqual(Object.entries(issues.columns.id), [
    ["name", "id"],
    ["nullable", false],
    ["primary_key", true],
  ]);
  assert.deepEqual(s.normalizers.json.config, {
    propagation: { tables: { issues: { _dlt_id: "_dlt_root_id" } } },
  });
  const before = JSON.stringify(s);
  applyTableHints(s, issuesHints);
  assert.equal(JSON.stringify(s), before);
});

Deno.test("applyTableHints() sets x-merge-strategy and max_nesting", () => {
  const s = newSchema("gitlab");
  applyTableHints(s, { ...issuesHints, merge_strategy: "upsert", max_nesting: 2 });
  assert.equal(s.tables.issues["x-merge-strategy"], "upsert");
  assert.deepEqual(s.tables.issues["x-normalizer"], { max_nesting: 2 });
  applyTableHints(s, {
    ...issuesHints,
    table: "Jobs",
    resource: "jobs",
    write_disposition: "append",
  });
  assert.ok(s.tables.jobs);
  assert.equal(s.tables.jobs["x-merge-strategy"], undefined);
});

Deno.test("setMaxNesting() puts a new max_nesting first and keeps an existing one's place", () => {
  const s = newSchema("gitlab");
  applyTableHints(s, issuesHints);
  setMaxNesting(s, 2);
  assert.deepEqual(s.normalizers.json.config, {
    max_nesting: 2,
    propagation: { tables: { issues: { _dlt_id: "_dlt_root_id" } } },
  });
  assert.deepEqual(Object.keys(s.normalizers.json.config!), ["max_nesting", "propagation"]);
  // a stored schema with the key elsewhere keeps it there (its text then changes no more)
  s.normalizers.json.config = { propagation: { tables: {} }, max_nesting: 1 };
  setMaxNesting(s, 3);
  assert.deepEqual(Object.keys(s.normalizers.json.config!), ["propagation", "max_nesting"]);
  assert.equal((s.normalizers.json.config as { max_nesting: number }).max_nesting, 3);
});

Deno.test("applyTableHints() keeps a non-default replace strategy as x-replace-strategy", () => {
  const s = newSchema("gitlab");
  const replace = { ...issuesHints, write_disposition: "replace" as const };
  applyTableHints(s, { ...replace, replace_strategy: "staging-optimized" });
  assert.equal(s.tables.issues["x-replace-strategy"], "staging-optimized");
  applyTableHints(s, { ...replace, replace_strategy: "truncate-and-insert" });
  assert.equal(s.tables.issues["x-replace-strategy"], undefined);
  applyTableHints(s, { ...issuesHints, replace_strategy: "insert-from-staging" });
  assert.equal(s.tables.issues["x-replace-strategy"], undefined, "only for replace tables");
});

Deno.test("versionHash() is stable and sees content and column order changes", () => {
  const a = newSchema("gitlab");
  applyTableHints(a, issuesHints);
  const b = newSchema("gitlab");
  applyTableHints(b, issuesHints);
  assert.equal(versionHash(a), versionHash(b));
  b.tables.issues.columns.title = { name: "title", data_type: "text", nullable: true };
  assert.notEqual(versionHash(a), versionHash(b));
  const c = newSchema("gitlab");
  applyTableHints(c, issuesHints);
  const { updated_at, id } = c.tables.issues.columns;
  c.tables.issues.columns = { id, updated_at };
  assert.notEqual(versionHash(a), versionHash(c));
  const d = structuredClone(a);
  d.version = 7;
  d.previous_hashes = ["x"];
  assert.equal(versionHash(a), versionHash(d));
});

Deno.test("bumpVersion() bumps once per change and keeps 10 previous hashes", () => {
  const s = newSchema("gitlab");
  const first = s.version_hash;
  assert.equal(bumpVersion(s), false);
  assert.equal(s.version, 1);
  applyTableHints(s, issuesHints);
  assert.equal(bumpVersion(s), true);
  assert.equal(s.version, 2);
  assert.deepEqual(s.previous_hashes, [first]);
  for (let i = 0; i < 12; i++) {
    s.tables.issues.columns[`c${i}`] = { name: `c${i}`, data_type: "text", nullable: true };
    bumpVersion(s);
  }
  assert.equal(s.version, 14);
  assert.equal(s.previous_hashes.length, 10);
  const fresh = { ...newSchema("x"), version_hash: "" };
  fresh.version = 0;
  bumpVersion(fresh);
  assert.equal(fresh.version, 1);
});

Deno.test("toExportYaml() writes dlt's export form (golden)", async () => {
  const s = newSchema("gitlab");
  applyTableHints(s, issuesHints);
  s.tables._dlt_pipeline_state = pipelineStateTable();
  s.tables.issues.columns.title = { name: "title", data_type: "text", nullable: true };
  s.tables.issues.columns.description = {
    name: "description",
    data_type: "text",
    nullable: true,
    description: "A long description of the column that goes past eighty characters and so " +
      "gets folded like PyYAML folds it: yes",
  };
  s.tables.issues__labels = {
    name: "issues__labels",
    columns: { value: { name: "value", data_type: "text", nullable: true } },
    parent: "issues",
    "x-normalizer": { "seen-data": true },
  };
  bumpVersion(s);
  const yaml = toExportYaml(s);
  assert.ok(!yaml.includes("name: issues"));
  assert.ok(yaml.startsWith("version: 2\nversion_hash: "));
  const golden = new URL("../testdata/golden/schema/gitlab.schema.yaml", import.meta.url);
  if (Deno.env.get("UPDATE_GOLDEN")) await Deno.writeTextFile(golden, yaml);
  assert.equal(yaml, await Deno.readTextFile(golden));

  const dir = await Deno.makeTempDir();
  try {
    const path = await writeSchemaExport(s, `${dir}/export`);
    assert.ok(path.endsWith("/export/gitlab.schema.yaml"));
    assert.equal(await Deno.readTextFile(path), yaml);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dumpYaml() writes what PyYAML 6 writes (escapes, folding, complex keys)", async () => {
  // documents with control characters, U+2028/2029, BOMs, emoji, long and multi-line keys, and
  // PyYAML's yaml.dump(d, allow_unicode=True, default_flow_style=False, sort_keys=False) of each
  const cases: { data: unknown; pyyaml: string }[] = JSON.parse(
    await Deno.readTextFile(
      new URL("../testdata/golden/schema/pyyaml_cases.json", import.meta.url),
    ),
  );
  assert.ok(cases.length > 50);
  for (const { data, pyyaml } of cases) assert.equal(dumpYaml(data), pyyaml, JSON.stringify(data));
});

Deno.test("toStoredJson() and fromStoredJson() round-trip, also base64 zlib", () => {
  const s = newSchema("gitlab");
  applyTableHints(s, issuesHints);
  bumpVersion(s);
  const json = toStoredJson(s);
  assert.deepEqual(fromStoredJson(json), s);
  const packed = btoa(String.fromCharCode(...deflateSync(new TextEncoder().encode(json))));
  assert.deepEqual(fromStoredJson(packed), s);
  const exported = JSON.parse(json);
  delete exported.tables.issues.name;
  delete exported.tables.issues.columns.id.name;
  const restored = fromStoredJson(JSON.stringify(exported));
  assert.equal(restored.tables.issues.name, "issues");
  assert.equal(restored.tables.issues.columns.id.name, "id");
  assert.throws(() => fromStoredJson("%%%"), /Cannot read stored schema/);
});

Deno.test("applyTableHints() hints the incremental cursor's column as dlt does, after the keys", () => {
  const schema = newSchema("s");
  applyTableHints(schema, {
    table: "issues",
    resource: "issues",
    write_disposition: "merge",
    primary_key: ["id"],
    merge_key: [],
    columns: {},
    incremental_column: "updatedAt",
  });
  assert.deepEqual(Object.keys(schema.tables.issues.columns), ["id", "updated_at"]);
  assert.deepEqual(schema.tables.issues.columns.updated_at, {
    name: "updated_at",
    incremental: true,
  });
  // a column hinted already keeps its hints and gains the flag; applying twice changes nothing
  const hints = {
    table: "mrs",
    resource: "mrs",
    write_disposition: "append" as const,
    primary_key: [],
    merge_key: [],
    columns: { updated_at: { data_type: "timestamp" as const } },
    incremental_column: "updated_at",
  };
  applyTableHints(schema, hints);
  const once = structuredClone(schema);
  applyTableHints(schema, hints);
  assert.deepEqual(schema, once);
  assert.deepEqual(schema.tables.mrs.columns.updated_at, {
    name: "updated_at",
    data_type: "timestamp",
    incremental: true,
  });
});

Deno.test("cursorColumnName() takes a single field, as dlt's extract_simple_field_name", () => {
  assert.equal(cursorColumnName("updated_at"), "updated_at");
  assert.equal(cursorColumnName("$.updated_at"), "updated_at");
  assert.equal(cursorColumnName("['updated at']"), "updated at");
  assert.equal(cursorColumnName("$['x']"), "x");
  assert.equal(cursorColumnName("commit.date"), undefined);
  assert.equal(cursorColumnName("$.items[*].t"), undefined);
  assert.equal(cursorColumnName(undefined), undefined);
});
