/**
 * Extracted packages of GitLab-shaped records for the normalize tests that compare a package
 * normalized some other way (threads, while it is extracted) with one pass.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  applyTableHints,
  newSchema,
  pipelineStateTable,
  toStoredJson,
} from "../../lib/schema/mod.ts";
import type { StoredSchema } from "../../lib/schema/types.ts";
import { JobWriter } from "../../lib/storage/job_writer.ts";
import { PackageStorage } from "../../lib/storage/package_storage.ts";

const samples = new URL("../testdata/reference/gitlab-samples/", import.meta.url);
export const LOAD_ID = "1714567890.123456";
/** A pipeline state row as the extract writes it into `_dlt_pipeline_state`. */
export const PIPELINE_STATE = {
  version: 1,
  engine_version: 4,
  pipeline_name: "gitlab",
  state: "eNoLSS0u0c3PS7UyMjA=",
  created_at: "2024-05-01T12:00:00.000Z",
  version_hash: "abc",
};
const ID_COLUMNS = new Set(["_dlt_id", "_dlt_parent_id", "_dlt_root_id"]);

const sample = (name: string): Record<string, unknown>[] =>
  JSON.parse(Deno.readTextFileSync(new URL(name, samples)));

/**
 * GitLab-shaped records whose schema evolves along the file: new fields late, a field that
 * changes type (variant column), nested lists that appear only in some records.
 */
export function records(name: string, n: number): Record<string, unknown>[] {
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

export async function extractedPackage(
  root: string,
  data: Record<string, unknown[]>,
  schemaText?: string,
) {
  const storage = new PackageStorage(root);
  const dir = await storage.create("extracted", LOAD_ID);
  await Deno.writeTextFile(join(dir, "schema.json"), schemaText ?? toStoredJson(schemaOf(data)));
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

/** The package's schema: every table (but dlt's) merged on `id` (`jobs` appended). */
export function schemaOf(data: Record<string, unknown[]>): StoredSchema {
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
  return schema;
}

/**
 * Everything a normalized package holds, row ids replaced by their order of appearance (root
 * ids are random): schema, schema updates and every table's job files.
 */
export function snapshot(storage: PackageStorage) {
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

export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Two {@linkcode snapshot}s of normalized packages are the same package. */
export function assertSamePackage(
  got: ReturnType<typeof snapshot>,
  want: ReturnType<typeof snapshot>,
): void {
  assert.deepEqual(got.tableOrder, want.tableOrder);
  assert.equal(got.schema, want.schema);
  assert.equal(got.updates, want.updates);
  assert.deepEqual(got.jobs, want.jobs);
}

/** Runs `fn` with a new temporary folder, removed afterwards. */
export async function withTempDir(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
