import assert from "node:assert/strict";
import { join } from "node:path";
import { DataValidationError } from "../../lib/common/errors.ts";
import { normalizePackage, type NormalizePackageOptions } from "../../lib/normalize/mod.ts";
import {
  applyTableHints,
  newSchema,
  pipelineStateTable,
  toStoredJson,
} from "../../lib/schema/mod.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { PackageStorage } from "../../lib/storage/package_storage.ts";

const samples = new URL("../testdata/reference/gitlab-samples/", import.meta.url);
const LOAD_ID = "1714567890.123456";
const ID_COLUMNS = new Set(["_dlt_id", "_dlt_parent_id", "_dlt_root_id"]);

const sample = (name: string): Record<string, unknown>[] =>
  JSON.parse(Deno.readTextFileSync(new URL(name, samples)));

/**
 * GitLab-shaped records whose schema evolves along the file: new fields late, a field that
 * changes type (variant column), nested lists that appear only in some records.
 */
function records(name: string, n: number): Record<string, unknown>[] {
  const base = sample(`${name}.json`);
  return Array.from({ length: n }, (_, i) => {
    const r = structuredClone(base[i % base.length]);
    r.id = 1000 + i;
    if (i > n / 2) r[`late_field_${name}`] = i;
    r.score = i === n - 3 ? "heavy" : i; // a number column, then text: a variant column
    if (i % 7 === 0) r.extra_list = [{ k: i, nested: { deep: [i, i + 1] } }];
    return r;
  });
}

async function extractedPackage(
  root: string,
  data: Record<string, unknown[]>,
  schemaText?: string,
) {
  const storage = new PackageStorage(root);
  const dir = await storage.create("extracted", LOAD_ID);
  const schema = newSchema("gitlab");
  for (const table of Object.keys(data)) {
    if (table.startsWith("_dlt")) continue;
    applyTableHints(schema, {
      table,
      resource: table,
      write_disposition: table === "jobs" ? "append" : "merge",
      primary_key: ["id"],
      merge_key: [],
      columns: {},
    });
  }
  schema.tables._dlt_pipeline_state = pipelineStateTable();
  await Deno.writeTextFile(join(dir, "schema.json"), schemaText ?? toStoredJson(schema));
  for (const [table, items] of Object.entries(data)) {
    // two files per table, so a group has several files to keep in order
    const half = Math.ceil(items.length / 2);
    for (const part of [items.slice(0, half), items.slice(half)]) {
      const w = new JobWriter(dir, table, "typed-jsonl");
      for (const item of part) await w.write(JSON.stringify(item));
      await w.close();
    }
  }
  return storage;
}

/**
 * Everything a normalized package holds, row ids replaced by their order of appearance (root
 * ids are random): schema, schema updates and every table's job files.
 */
function snapshot(storage: PackageStorage) {
  const dir = storage.path("normalized", LOAD_ID);
  const ids = new Map<string, string>();
  const canonical = (v: string) => {
    if (!ids.has(v)) ids.set(v, `#${ids.size}`);
    return ids.get(v)!;
  };
  const files = [...Deno.readDirSync(join(dir, "new_jobs"))].map((e) => e.name);
  const tables = [...new Set(files.map((f) => f.split(".")[0]))].sort((a, b) =>
    a.split("__").length - b.split("__").length || (a < b ? -1 : 1)
  );
  const jobs: Record<string, string[][]> = {};
  for (const table of tables) {
    // a table's files in the order they were written: a new file starts when columns were added
    const parts: string[][][] = [];
    for (const f of files.filter((f) => f.split(".")[0] === table)) {
      const lines = Deno.readTextFileSync(join(dir, "new_jobs", f)).split("\n").filter(Boolean);
      const header: string[] = JSON.parse(lines[0]);
      parts.push([header, ...lines.slice(1).map((l) => l.split("\t"))]);
    }
    parts.sort((a, b) => a[0].length - b[0].length);
    jobs[table] = parts.flatMap(([header, ...rows]) => [
      header,
      ...rows.map((r) => r.map((v, i) => (ID_COLUMNS.has(header[i]) ? canonical(v) : v))),
    ]);
  }
  const schema = JSON.parse(Deno.readTextFileSync(join(dir, "schema.json")));
  return {
    schema: Deno.readTextFileSync(join(dir, "schema.json")),
    tableOrder: Object.keys(schema.tables),
    updates: Deno.readTextFileSync(join(dir, "schema_updates.json")),
    jobs,
  };
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function normalizeBoth(
  data: Record<string, unknown[]>,
  parallel: NormalizePackageOptions,
  schemaText?: string,
) {
  const roots = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    // the same package twice (same file names, so the same file order)
    const one = await extractedPackage(roots[0], data, schemaText);
    const many = new PackageStorage(roots[1]);
    await copyDir(one.path("extracted", LOAD_ID), await many.create("extracted", LOAD_ID));
    const oneInfo = await normalizePackage(one, LOAD_ID, { workers: 1 });
    const manyInfo = await normalizePackage(many, LOAD_ID, parallel);
    return {
      oneInfo,
      manyInfo,
      one: snapshot(one),
      many: snapshot(many),
      left: await many.list("extracted"),
    };
  } finally {
    for (const r of roots) await Deno.remove(r, { recursive: true });
  }
}

const comparable = ({ jobs: _j, threads: _t, ...rest }: { jobs: string[]; threads: number }) =>
  rest;

Deno.test("normalizePackage() with workers: root tables in parallel, the package identical to one pass", async () => {
  const state = {
    version: 1,
    engine_version: 4,
    pipeline_name: "gitlab",
    state: "eNoLSS0u0c3PS7UyMjA=",
    created_at: "2024-05-01T12:00:00.000Z",
    version_hash: "abc",
  };
  const data = {
    _dlt_pipeline_state: [state],
    issues: records("issues", 300),
    jobs: records("jobs", 200),
    merge_requests: records("merge_requests", 250),
  };
  const r = await normalizeBoth(data, { workers: 3, parallelMinBytes: 0 });
  assert.equal(r.oneInfo.threads, 1);
  assert.equal(r.manyInfo.threads, 3);
  assert.deepEqual(r.left, []);
  assert.deepEqual(comparable(r.manyInfo), comparable(r.oneInfo));
  assert.ok(r.one.tableOrder.includes("issues__extra_list__nested__deep"), "nested tables made");
  assert.ok(r.oneInfo.newVariantColumns.issues?.length, "a variant column made");
  assert.deepEqual(r.many.tableOrder, r.one.tableOrder);
  assert.equal(r.many.schema, r.one.schema);
  assert.equal(r.many.updates, r.one.updates);
  assert.deepEqual(r.many.jobs, r.one.jobs);
});

Deno.test("normalizePackage() with workers: a root table named like another's nested table falls back to one pass", async () => {
  const data = {
    issues: records("issues", 40),
    // "issues__labels" is also the nested table of issues' labels
    issues__labels: [{ value: "from another resource", id: 1 }],
  };
  const r = await normalizeBoth(data, { workers: 2, parallelMinBytes: 0 });
  assert.equal(r.manyInfo.threads, 1);
  assert.deepEqual(comparable(r.manyInfo), comparable(r.oneInfo));
  assert.equal(r.many.schema, r.one.schema);
  assert.deepEqual(r.many.jobs, r.one.jobs);
  // the next package: the schema already has every column, so no group changes the shared
  // table, but both write rows to it: still one pass (row counts, file order)
  const again = await normalizeBoth(data, { workers: 2, parallelMinBytes: 0 }, r.one.schema);
  assert.equal(again.manyInfo.threads, 1);
  assert.equal(again.oneInfo.rows.issues__labels, r.oneInfo.rows.issues__labels);
  assert.deepEqual(comparable(again.manyInfo), comparable(again.oneInfo));
  assert.deepEqual(again.many.jobs, again.one.jobs);
});

Deno.test("normalizePackage() with workers: a contract error in a worker is the error of one pass", async () => {
  const errors: unknown[] = [];
  for (const workers of [1, 3]) {
    const root = await Deno.makeTempDir();
    try {
      const storage = await extractedPackage(root, {
        issues: records("issues", 30),
        merge_requests: records("merge_requests", 30),
      });
      errors.push(
        await normalizePackage(storage, LOAD_ID, {
          workers,
          parallelMinBytes: 0,
          schemaContract: { tables: "freeze" },
        }).catch((e) => e),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  assert.ok(errors[0] instanceof DataValidationError, String(errors[0]));
  assert.ok(errors[1] instanceof DataValidationError, String(errors[1]));
  assert.equal((errors[1] as Error).message, (errors[0] as Error).message);
});
