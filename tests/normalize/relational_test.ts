import assert from "node:assert/strict";
import {
  digest128,
  type NormalizedRow,
  normalizeItem,
  parseJson,
  SchemaEvolution,
} from "../../lib/normalize/mod.ts";
import { applyTableHints, newSchema, type StoredSchema } from "../../lib/schema/mod.ts";

function rowsOf(
  schema: StoredSchema,
  item: unknown,
  table = "items",
): { table: string; row: Record<string, unknown> }[] {
  let n = 0;
  const out: NormalizedRow[] = [
    ...normalizeItem(item, { schema, table, loadId: "1.5", newRowId: () => `root${n++}` }),
  ];
  return out.map((r) => ({ table: r.table, row: Object.fromEntries(r.row) }));
}

function withTable(hints: Partial<Parameters<typeof applyTableHints>[1]> = {}): StoredSchema {
  const schema = newSchema("test");
  applyTableHints(schema, {
    table: "items",
    resource: "items",
    write_disposition: "append",
    primary_key: [],
    merge_key: [],
    columns: {},
    ...hints,
  });
  return schema;
}

Deno.test("normalizeItem() flattens scalars first, then the last nested dict first", () => {
  const item = parseJson('{"a": 1, "x": {"p": 1, "q": {"r": 2}}, "b": "s", "y": {"z": 3}}');
  const [root] = rowsOf(withTable(), item);
  assert.deepEqual(Object.keys(root.row), [
    "a",
    "b",
    "y__z",
    "x__p",
    "x__q__r",
    "_dlt_load_id",
    "_dlt_id",
  ]);
  assert.equal(root.row._dlt_load_id, "1.5");
  assert.equal(root.row._dlt_id, "root0");
});

Deno.test("normalizeItem() turns lists into nested tables with deterministic ids", () => {
  const rows = rowsOf(
    withTable(),
    parseJson('{"id": 1, "tags": ["a", "b"], "owner": {"teams": [{"name": "t"}]}}'),
  );
  assert.deepEqual(rows.map((r) => r.table), [
    "items",
    "items__tags",
    "items__tags",
    "items__owner__teams",
  ]);
  assert.deepEqual(rows[1].row, {
    value: "a",
    _dlt_parent_id: "root0",
    _dlt_list_idx: 0,
    _dlt_id: digest128("root0_items__tags_0"),
  });
  assert.equal(rows[2].row._dlt_list_idx, 1);
  assert.deepEqual(Object.keys(rows[3].row), [
    "name",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
  assert.equal(rows[3].row._dlt_id, digest128("root0_items__owner__teams_0"));
  assert.ok(!("_dlt_load_id" in rows[1].row));
});

Deno.test("normalizeItem() propagates _dlt_root_id for merge tables", () => {
  const schema = withTable({ write_disposition: "merge", primary_key: ["id"] });
  const rows = rowsOf(schema, parseJson('{"id": 1, "a": [{"b": [1]}]}'));
  assert.deepEqual(Object.keys(rows[1].row), [
    "_dlt_root_id",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
  assert.equal(rows[1].row._dlt_root_id, "root0");
  assert.deepEqual(Object.keys(rows[2].row), [
    "value",
    "_dlt_root_id",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
  assert.equal(rows[2].row._dlt_root_id, "root0");
  assert.equal(rows[2].row._dlt_parent_id, rows[1].row._dlt_id);
});

Deno.test("normalizeItem() uses a key hash as root _dlt_id for upsert", () => {
  const schema = withTable({
    write_disposition: "merge",
    merge_strategy: "upsert",
    primary_key: ["id"],
  });
  const [root] = rowsOf(schema, parseJson('{"id": 76, "x": 1}'));
  // shake_128(orjson.dumps({"id": 76}, OPT_SORT_KEYS)), 10 bytes, computed in Python
  assert.equal(root.row._dlt_id, "Nxc3rXfjo6Ivyg");
});

Deno.test("normalizeItem() keeps an existing _dlt_id and wraps non-dict records", () => {
  const [root] = rowsOf(withTable(), parseJson('{"_dlt_id": "mine", "a": 1}'));
  assert.equal(root.row._dlt_id, "mine");
  const [scalar] = rowsOf(withTable(), 42);
  assert.deepEqual(scalar.row, { value: 42, _dlt_load_id: "1.5", _dlt_id: "root0" });
});

Deno.test("normalizeItem() drops empty dicts and leaves nulls to the evolution step", () => {
  const [root] = rowsOf(withTable(), parseJson('{"a": null, "e": {}, "b": {"c": null}}'));
  assert.deepEqual(Object.keys(root.row), ["a", "b__c", "_dlt_load_id", "_dlt_id"]);
});

Deno.test("normalizeItem() wraps lists of lists as {list: inner}", () => {
  const rows = rowsOf(withTable(), parseJson('{"m": [[1, 2]]}'));
  assert.deepEqual(rows.map((r) => r.table), [
    "items",
    "items__m",
    "items__m__list",
    "items__m__list",
  ]);
  assert.deepEqual(Object.keys(rows[1].row), ["_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]);
  assert.equal(rows[2].row._dlt_parent_id, rows[1].row._dlt_id);
});

const deep = '{"a": {"b": {"c": 1}}, "l": [{"x": {"y": 1}, "z": [1]}]}';

Deno.test("normalizeItem() with max_nesting 0 keeps every dict and list as json", () => {
  const schema = withTable({ max_nesting: 0 });
  const rows = rowsOf(schema, parseJson(deep));
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0].row), ["a", "l", "_dlt_load_id", "_dlt_id"]);
  assert.ok(rows[0].row.a instanceof Map);
});

Deno.test("normalizeItem() with max_nesting 1 flattens and splits one level", () => {
  const schema = withTable();
  schema.normalizers.json.config = { max_nesting: 1 };
  const rows = rowsOf(schema, parseJson(deep));
  assert.deepEqual(rows.map((r) => r.table), ["items", "items__l"]);
  assert.deepEqual(Object.keys(rows[0].row), ["a__b", "_dlt_load_id", "_dlt_id"]);
  assert.deepEqual(Object.keys(rows[1].row), [
    "x",
    "z",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
});

Deno.test("normalizeItem() with max_nesting 2: the table setting wins over the source", () => {
  const schema = withTable({ max_nesting: 2 });
  schema.normalizers.json.config = { max_nesting: 0 };
  const rows = rowsOf(schema, parseJson(deep));
  assert.deepEqual(rows.map((r) => r.table), ["items", "items__l", "items__l__z"]);
  assert.deepEqual(Object.keys(rows[0].row), ["a__b__c", "_dlt_load_id", "_dlt_id"]);
  assert.deepEqual(Object.keys(rows[1].row), [
    "x__y",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
});

Deno.test("normalizeItem() does not flatten a column typed json", () => {
  const schema = withTable({ columns: { meta: { data_type: "json" } } });
  const rows = rowsOf(schema, parseJson('{"meta": {"k": [1]}, "n": 1}'));
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0].row), ["meta", "n", "_dlt_load_id", "_dlt_id"]);
});

Deno.test("normalizeItem() on GitLab issues gives issues, issues__assignees, issues__labels", () => {
  const schema = withTable({
    table: "issues",
    resource: "issues",
    write_disposition: "merge",
    primary_key: ["id"],
  });
  const items = parseJson(
    Deno.readTextFileSync(
      new URL("../testdata/reference/gitlab-samples/issues.json", import.meta.url),
    ),
  ) as unknown[];
  const evolution = new SchemaEvolution(schema);
  for (const item of items) {
    for (const r of normalizeItem(item, { schema, table: "issues", loadId: "1.5" })) {
      evolution.coerceRow(r.row, r);
    }
  }
  assert.deepEqual(evolution.info.newTables, ["issues__assignees", "issues__labels"]);
  const issues = Object.keys(schema.tables.issues.columns);
  assert.deepEqual(issues.slice(0, 6), [
    "state",
    "description",
    "project_id",
    "type",
    "updated_at",
    "id",
  ]);
  assert.ok(issues.includes("author__username"));
  assert.ok(issues.includes("_links__self"));
  assert.ok(!issues.includes("closed_at"));
  assert.deepEqual(issues.slice(-2), ["_dlt_load_id", "_dlt_id"]);
  assert.equal(schema.tables.issues.columns.updated_at.data_type, "timestamp");
  assert.equal(schema.tables.issues.columns.due_date.data_type, "text");
  assert.deepEqual(Object.keys(schema.tables.issues__labels.columns), [
    "value",
    "_dlt_root_id",
    "_dlt_parent_id",
    "_dlt_list_idx",
    "_dlt_id",
  ]);
  assert.equal(schema.tables.issues__assignees.parent, "issues");
  assert.equal(schema.tables.issues__assignees.write_disposition, undefined);
});

Deno.test("normalizeItem() keeps both values when two keys of one object normalize alike", async () => {
  const { identifierTag } = await import("../../lib/schema/mod.ts");
  // dlt would keep only the last value; the key spelled as the column keeps the column
  for (const text of ['{"fooBar": 1, "foo_bar": 2}', '{"foo_bar": 2, "fooBar": 1}']) {
    const [root] = rowsOf(withTable(), parseJson(text));
    assert.equal(root.row.foo_bar, 2, text);
    assert.equal(root.row[`foo_bar_${identifierTag("fooBar")}`], 1, text);
  }
  // nested: the original path decides, not the last key alone
  const [nested] = rowsOf(withTable(), parseJson('{"a": {"x": 1}, "A": {"x": 2}}'));
  const values = Object.entries(nested.row).filter(([k]) => k.startsWith("a__x"));
  assert.deepEqual(values.map(([, v]) => v).sort(), [1, 2]);
  // one key repeated across records still lands in one column (no collision)
  const [single] = rowsOf(withTable(), parseJson('{"fooBar": 3}'));
  assert.equal(single.row.foo_bar, 3);
});

Deno.test("normalizeItem() gives the same rows for plain objects (JSON.parse) as for the exact parser's Maps", () => {
  // plain objects take a pass of their own (for…in, no record of where columns came from) that
  // hands collisions to the general one: both must give the general pass's rows
  const texts = [
    deep,
    '{"fooBar": 1, "foo_bar": 2, "n": {"fooBar": {"x": 1}, "foo_bar": {"x": 2}}}',
    '{"a": {"x": 1}, "A": {"x": 2}, "l": [{"k": 1, "K": 2}, {"k": 3}], "m": [[1, 2], [3]]}',
    '{"": 1, "__proto__": {"p": 1}, "x": {"": {"y": 2}}, "l": [], "d": {}}',
    '{"l": [1], "L": [2], "z": null, "t": true, "f": 1.5}',
  ];
  for (const text of texts) {
    assert.deepEqual(
      rowsOf(withTable(), JSON.parse(text)),
      rowsOf(withTable(), parseJson(text)),
      text,
    );
  }
});

Deno.test("generateDltId() gives 14-character base64 ids of 10 fresh random bytes", async () => {
  const { generateDltId } = await import("../../lib/normalize/ids.ts");
  const { Buffer } = await import("node:buffer");
  const ids = new Set<string>();
  // more than one 4 KiB pool of random bytes
  for (let i = 0; i < 2_000; i++) {
    const id = generateDltId();
    assert.match(id, /^[A-Za-z0-9+/]{14}$/);
    const bytes = Buffer.from(id, "base64");
    assert.equal(bytes.length, 10);
    // the same text as Node's base64 of those bytes, `=` stripped (dlt's format)
    assert.equal(bytes.toString("base64").replace(/=+$/, ""), id);
    ids.add(id);
  }
  assert.equal(ids.size, 2_000);
});
