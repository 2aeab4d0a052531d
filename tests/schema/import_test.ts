import assert from "node:assert/strict";
import { ConfigError } from "../../lib/common/errors.ts";
import { SchemaEvolution } from "../../lib/normalize/mod.ts";
import {
  applyTableHints,
  bumpVersion,
  importSchema,
  importSchemaFile,
  newSchema,
  toExportYaml,
} from "../../lib/schema/mod.ts";

const CURATED = `
tables:
  issues:
    columns:
      iid:
        data_type: text
        nullable: false
      weight:
        data_type: double
    write_disposition: append
    resource: issues
settings:
  detections:
  - iso_timestamp
  preferred_types:
    re:_at$: timestamp
`;

Deno.test("importSchema() applies a curated YAML once, until it changes", () => {
  const schema = newSchema("gitlab");
  assert.equal(importSchema(schema, CURATED, "gitlab.schema.yaml"), true);
  assert.equal(schema.tables.issues.columns.iid.data_type, "text");
  assert.ok(schema.tables._dlt_version, "system tables kept");
  // the imported types win over inference
  const ev = new SchemaEvolution(schema);
  const row = ev.coerceRow(
    new Map<string, unknown>([["iid", 7], ["weight", 2], ["closed_at", 0]]),
    { table: "issues" },
  )!;
  assert.deepEqual([...row], [["iid", "7"], ["weight", 2], [
    "closed_at",
    "1970-01-01T00:00:00+00:00",
  ]]);
  assert.equal(schema.tables.issues.columns.closed_at.data_type, "timestamp");
  bumpVersion(schema);
  const version = schema.version;
  // same file again: nothing happens, so inferred columns stay
  assert.equal(importSchema(schema, CURATED), false);
  assert.ok(schema.tables.issues.columns.closed_at);
  assert.equal(bumpVersion(schema), false);
  assert.equal(schema.version, version);
  // the export never carries the import marker
  assert.doesNotMatch(toExportYaml(schema), /imported_version_hash/);
  assert.throws(
    () =>
      importSchema(
        newSchema("x"),
        "tables:\n  t:\n    columns:\n      c:\n        data_type: varchar\n",
      ),
    (e: Error) =>
      e instanceof ConfigError && /column "t\.c" has data_type "varchar"/.test(e.message),
  );
});

Deno.test("importSchema() refuses a file of the wrong shape instead of emptying the schema", () => {
  const cases: [string, RegExp][] = [
    ["tables: 5\n", /"tables" must be a mapping of the schema's tables, got 5$/],
    ["tables:\n  - issues\n", /"tables" must be a mapping of the schema's tables, got a list$/],
    // no tables at all would empty the live schema
    ["settings: {}\n", /"tables" must be a mapping of the schema's tables, got none$/],
    ["tables:\n", /"tables" must be a mapping of the schema's tables, got null$/],
    ["tables:\n  issues: 3\n", /table "issues" must be a mapping, got 3$/],
    ["tables:\n  issues:\n", /table "issues" must be a mapping, got null$/],
    ["tables:\n  issues:\n    columns: [a, b]\n", /"issues\.columns" must be a mapping/],
    ["tables:\n  issues:\n    columns:\n      id: bigint\n", /column "issues\.id" must be/],
    // the parser's reason, with its line and column
    ["tables:\n  issues: {columns: [\n", /not valid YAML: .*line \d+, column \d+/],
  ];
  for (const [text, expected] of cases) {
    const schema = newSchema("gitlab");
    const tables = Object.keys(schema.tables);
    assert.throws(
      () => importSchema(schema, text, "gitlab.schema.yaml"),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.startsWith('Cannot import schema "gitlab.schema.yaml": ') &&
        expected.test(e.message),
      text,
    );
    assert.deepEqual(Object.keys(schema.tables), tables, "left as it was");
  }
  // a table without columns is one
  assert.equal(importSchema(newSchema("gitlab"), "tables:\n  issues:\n    columns:\n"), true);
});

Deno.test("importSchemaFile() reads <dir>/<name>.schema.yaml and ignores a missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const schema = newSchema("gitlab");
    assert.equal(await importSchemaFile(schema, dir), false);
    await Deno.writeTextFile(`${dir}/gitlab.schema.yaml`, CURATED);
    assert.equal(await importSchemaFile(schema, dir), true);
    assert.equal(schema.tables.issues.columns.weight.data_type, "double");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyTableHints() applies catalog column hints and never retypes a column", () => {
  const schema = newSchema("gitlab");
  const hints = {
    table: "issues",
    resource: "issues",
    write_disposition: "merge" as const,
    primary_key: ["id"],
    merge_key: ["project_id"],
    columns: { "Weight": { data_type: "double" as const, nullable: false }, iid: { unique: true } },
  };
  applyTableHints(schema, hints);
  assert.deepEqual(schema.tables.issues.columns.weight, {
    data_type: "double",
    nullable: false,
    name: "weight",
  });
  assert.deepEqual(schema.tables.issues.columns.project_id, {
    name: "project_id",
    nullable: false,
    merge_key: true,
  });
  const ev = new SchemaEvolution(schema);
  const row = ev.coerceRow(new Map<string, unknown>([["weight", 3], ["iid", 1]]), {
    table: "issues",
  })!;
  assert.deepEqual([...row], [["weight", 3], ["iid", 1]]);
  assert.equal(schema.tables.issues.columns.iid.unique, true);
  assert.equal(schema.tables.issues.columns.iid.data_type, "bigint");
  assert.throws(
    () => applyTableHints(schema, { ...hints, columns: { weight: { data_type: "text" } } }),
    /column "issues\.weight" is double in the schema but the catalog says text/,
  );
});
