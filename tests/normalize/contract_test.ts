import assert from "node:assert/strict";
import { join } from "node:path";
import { DataValidationError, UsageError } from "../../lib/common/errors.ts";
import { normalizePackage, parseJson, SchemaEvolution } from "../../lib/normalize/mod.ts";
import {
  applyTableHints,
  newSchema,
  parseContractFlag,
  resolveContract,
  type StoredSchema,
  toStoredJson,
} from "../../lib/schema/mod.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { PackageStorage } from "../../lib/storage/package_storage.ts";

const LOAD_ID = "1714567890.123456";

/** The hints of the append resource "items", with a schema contract when given. */
function itemsHints(contract?: unknown): Parameters<typeof applyTableHints>[1] {
  const hints = {
    table: "items",
    resource: "items",
    write_disposition: "append" as const,
    primary_key: [],
    merge_key: [],
    columns: {},
  };
  return contract === undefined ? hints : { ...hints, schema_contract: contract };
}

/** A schema whose table "items" has seen `{id: 1, name: "a", tags: ["x"]}`. */
function seenSchema(contract?: unknown): StoredSchema {
  const schema = newSchema("src");
  applyTableHints(schema, itemsHints());
  const ev = new SchemaEvolution(schema);
  const dlt = { _dlt_load_id: LOAD_ID, _dlt_id: "r" };
  ev.coerceRow(new Map(Object.entries({ id: 1, name: "a", ...dlt })), { table: "items" });
  const nested = { _dlt_parent_id: "r", _dlt_list_idx: 0, _dlt_id: "c" };
  ev.coerceRow(new Map(Object.entries({ value: "x", ...nested })), {
    table: "items__tags",
    parentTable: "items",
  });
  // the resource's contract, as a later run declares it
  applyTableHints(schema, itemsHints(contract));
  return schema;
}

async function normalizeRecords(
  schema: StoredSchema,
  records: string[],
  schemaContract?: ReturnType<typeof parseContractFlag>,
) {
  const root = await Deno.makeTempDir();
  const storage = new PackageStorage(root);
  const dir = await storage.create("extracted", LOAD_ID);
  await Deno.writeTextFile(join(dir, "schema.json"), toStoredJson(schema));
  const w = new JobWriter(dir, "items", "typed-jsonl");
  for (const r of records) await w.write(r);
  await w.close();
  try {
    const info = await normalizePackage(storage, LOAD_ID, { schemaContract });
    return { info, root, storage };
  } catch (e) {
    await Deno.remove(root, { recursive: true });
    throw e;
  }
}

Deno.test("resolveContract() takes the run over the table over the source, entity by entity", () => {
  const schema = seenSchema({ columns: "freeze" });
  schema.settings.schema_contract = { data_type: "discard_value", columns: "discard_row" };
  assert.deepEqual(resolveContract(schema, "items__tags"), {
    tables: "evolve",
    columns: "freeze",
    data_type: "discard_value",
  });
  assert.deepEqual(resolveContract(schema, "items", { override: parseContractFlag("evolve") }), {
    tables: "evolve",
    columns: "evolve",
    data_type: "evolve",
  });
  assert.deepEqual(parseContractFlag("columns=freeze, data_type=discard_row"), {
    columns: "freeze",
    data_type: "discard_row",
  });
  assert.throws(() => parseContractFlag("frozen"), UsageError);
  assert.throws(() => parseContractFlag("rows=freeze"), /unknown entity "rows"/);
});

Deno.test("a frozen contract stops normalizing with the table, the column and a value", async () => {
  const schema = seenSchema("freeze");
  await assert.rejects(
    () => normalizeRecords(schema, ['{"id": 2, "name": "b", "weight": 3.5}']),
    (e: Error) => {
      assert.ok(e instanceof DataValidationError);
      assert.equal(
        e.message,
        'Cannot load table "items": the schema contract freezes columns but the data has new column "weight" (value 3.5)',
      );
      return true;
    },
  );
  await assert.rejects(
    () => normalizeRecords(schema, ['{"id": "two"}']),
    /freezes data types but the data has value "two" does not fit the type of column "id" and would create variant column "id__v_text"/,
  );
  await assert.rejects(
    () => normalizeRecords(schema, ['{"id": 3, "labels": [{"n": 1}]}']),
    /Cannot load table "items__labels": the schema contract freezes tables and "items__labels" is a new table \(column "n", value 1\)/,
  );
  // data that fits passes a frozen contract, also into known nested tables
  const ok = await normalizeRecords(schema, ['{"id": 2, "name": "b", "tags": ["y"]}']);
  assert.deepEqual(ok.info.rows, { items: 1, items__tags: 1 });
  await Deno.remove(ok.root, { recursive: true });
});

Deno.test("discard_row drops the row with its nested rows; discard_value drops the value", async () => {
  const records = [
    '{"id": 2, "name": "b", "extra": 1, "tags": ["y", "z"]}',
    '{"id": 3, "name": "c", "tags": ["w"]}',
    '{"id": "four", "name": "d"}',
  ];
  const row = await normalizeRecords(seenSchema("discard_row"), records);
  assert.deepEqual(row.info.rows, { items: 1, items__tags: 1 });
  assert.deepEqual(row.info.discardedRows, { items: 2 });
  await Deno.remove(row.root, { recursive: true });

  const value = await normalizeRecords(seenSchema("discard_value"), records);
  assert.deepEqual(value.info.rows, { items: 3, items__tags: 3 });
  assert.deepEqual(value.info.discardedValues, { items: 2 });
  assert.deepEqual(value.info.newColumns, {});
  await Deno.remove(value.root, { recursive: true });

  // a new nested table under discard_value on tables: its rows are dropped
  const tables = await normalizeRecords(
    seenSchema({ tables: "discard_value" }),
    ['{"id": 5, "labels": ["a", "b"], "note": "new column evolves"}'],
  );
  assert.deepEqual(tables.info.rows, { items: 1 });
  assert.deepEqual(tables.info.discardedRows, { items__labels: 2 });
  assert.deepEqual(tables.info.newColumns, { items: ["note"] });
  await Deno.remove(tables.root, { recursive: true });
});

Deno.test("the run's contract overrides the resource's", async () => {
  const run = await normalizeRecords(
    seenSchema("freeze"),
    ['{"id": 2, "weight": 3.5}'],
    parseContractFlag("evolve"),
  );
  assert.deepEqual(run.info.newColumns, { items: ["weight"] });
  await Deno.remove(run.root, { recursive: true });
});

Deno.test("a new table may get its first columns unless tables are frozen", () => {
  const schema = newSchema("src");
  schema.settings.schema_contract = { columns: "freeze", data_type: "freeze" };
  const ev = new SchemaEvolution(schema);
  const out = ev.coerceRow(parseJson('{"a": 1, "b": "x"}') as Map<string, unknown>, {
    table: "fresh",
  });
  assert.deepEqual([...out!.keys()], ["a", "b"]);
  assert.deepEqual(ev.info.newTables, ["fresh"]);
});
