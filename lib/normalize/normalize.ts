/**
 * The normalize stage: one extracted package (`normalize/extracted/<id>/`) becomes a
 * normalized one (`load/normalized/<id>/`) with COPY job files and the evolved schema.
 *
 * Job file format (`new_jobs/<table>.<file_id>.0.copy`): the first line is a JSON array of the
 * column names in the file; every other line is one row in Postgres COPY text format, values
 * in that column order. Records are read line by line and rows are buffered per table in
 * bounded chunks; each chunk is written with the table's complete columns at flush time,
 * and a new file is started whenever those columns changed, so memory stays flat.
 *
 * @module
 */

import { join } from "node:path";
import { C_DLT_ID, C_DLT_PARENT_ID, STATE_TABLE } from "../schema/names.ts";
import type { SchemaContract } from "../schema/contract.ts";
import { bumpVersion } from "../schema/hash.ts";
import { fromStoredJson, toStoredJson } from "../schema/export.ts";
import { completeColumnNames, pipelineStateTable } from "../schema/schema.ts";
import type { DataType, StoredSchema } from "../schema/types.ts";
import { JobWriter } from "../storage/job_writer.ts";
import { readLines } from "../storage/read_lines.ts";
import {
  NEW_JOBS,
  PACKAGE_STATE_FILE,
  type PackageStorage,
  parseJobFileName,
  uniqId,
  writeFileAtomic,
} from "../storage/package_storage.ts";
import { encodeCopyRow } from "./copy_format.ts";
import { SchemaEvolution } from "./evolve.ts";
import { parseRecord } from "./json_value.ts";
import { normalizeItem } from "./relational.ts";

/** What normalizing one package did. */
export interface NormalizeInfo {
  /** The package. */
  loadId: string;
  /** Rows written per table (root and nested), in order of first row. */
  rows: Record<string, number>;
  /** Tables created in the schema, in order. */
  newTables: string[];
  /** New columns per table (including all columns of new tables). */
  newColumns: Record<string, string[]>;
  /** New variant columns per table. */
  newVariantColumns: Record<string, string[]>;
  /** Rows dropped by the schema contract, per table. */
  discardedRows: Record<string, number>;
  /** Values dropped by the schema contract (`discard_value`), per table. */
  discardedValues: Record<string, number>;
  /** Job files written (absolute paths, in the normalized package). */
  jobs: string[];
  /** Schema version after normalizing. */
  schemaVersion: number;
  /** Schema version hash after normalizing. */
  schemaVersionHash: string;
}

/** Options of {@linkcode normalizePackage}. */
export interface NormalizePackageOptions {
  /** Rows buffered per table before they are written. @default {200} */
  chunkRows?: number;
  /** Size after which a job file is closed and a new one started. @default {67108864} */
  maxFileBytes?: number;
  /** Random root row ids (tests). @default {random 10 bytes, base64} */
  newRowId?: () => string;
  /**
   * The run's schema contract (`--schema-contract`), over the source's and the tables'.
   * @default {{}}
   */
  schemaContract?: Partial<SchemaContract>;
  /**
   * Test hook called with `"normalize_file"` before each extracted file is read (a crash
   * there leaves a half-written package in `load/new/`). @default {undefined}
   */
  hook?: (point: string) => void | Promise<void>;
}

const EXTRACTED_SUFFIXES = [".typed-jsonl", ".jsonl", ".typed-jsonl.gz", ".jsonl.gz"];

interface TableOutput {
  writer: JobWriter;
  /** Columns of the current file. */
  header?: string[];
  rows: Map<string, unknown>[];
}

/** Buffers rows per table and writes them as COPY job files. */
class CopyJobs {
  readonly #dir: string;
  readonly #schema: StoredSchema;
  readonly #chunkRows: number;
  readonly #maxFileBytes?: number;
  readonly #tables = new Map<string, TableOutput>();
  readonly #extra: string[] = [];
  readonly rows: Record<string, number> = {};

  constructor(dir: string, schema: StoredSchema, chunkRows: number, maxFileBytes?: number) {
    this.#dir = dir;
    this.#schema = schema;
    this.#chunkRows = chunkRows;
    this.#maxFileBytes = maxFileBytes;
  }

  #output(table: string): TableOutput {
    let out = this.#tables.get(table);
    if (!out) {
      const o: TableOutput = {
        rows: [],
        writer: new JobWriter(this.#dir, table, "copy", {
          maxFileBytes: this.#maxFileBytes,
          header: () => JSON.stringify(o.header ?? []),
        }),
      };
      out = o;
      this.#tables.set(table, out);
    }
    return out;
  }

  /** Buffers a row; returns a promise only when the table's buffer had to be written. */
  add(table: string, row: Map<string, unknown>): Promise<void> | undefined {
    const out = this.#output(table);
    out.rows.push(row);
    this.rows[table] = (this.rows[table] ?? 0) + 1;
    return out.rows.length >= this.#chunkRows ? this.#flush(table, out) : undefined;
  }

  /** Makes sure a (possibly header-only) job file exists for `table`. */
  async touch(table: string): Promise<void> {
    const out = this.#output(table);
    this.rows[table] ??= 0;
    if (out.writer.files.length === 0 && out.rows.length === 0) {
      const header = completeColumnNames(this.#schema.tables[table]);
      const path = join(this.#dir, NEW_JOBS, `${table}.${uniqId(5)}.0.copy`);
      await Deno.writeTextFile(path, JSON.stringify(header) + "\n");
      this.#extra.push(path);
    }
  }

  async #flush(table: string, out: TableOutput): Promise<void> {
    if (out.rows.length === 0) return;
    const t = this.#schema.tables[table];
    const names = completeColumnNames(t);
    if (out.header && out.header.join("\u0000") !== names.join("\u0000")) await out.writer.rotate();
    out.header = names;
    const columns = names.map((name) => ({
      name,
      type: t.columns[name].data_type as DataType | undefined,
    }));
    const lines = out.rows.map((row) => encodeCopyRow(row, columns));
    out.rows = [];
    await out.writer.writeLines(lines);
    await out.writer.flush();
  }

  async close(): Promise<string[]> {
    const files: string[] = [...this.#extra];
    for (const [table, out] of this.#tables) {
      await this.#flush(table, out);
      files.push(...await out.writer.close());
    }
    return files;
  }
}

/**
 * Normalizes the extracted package `loadId`: reads `schema.json`, `load_package_state.json`
 * and every `new_jobs/<table>.<file_id>.<retry>.typed-jsonl` (one JSON record per line, or a
 * JSON array of records per line as dlt writes them; the file's table is the root table),
 * writes COPY jobs, the evolved and version-bumped `schema.json` and `schema_updates.json`
 * into `load/new/<id>/`, moves that to `load/normalized/<id>/` and removes the extracted
 * package. Every table that received rows gets `x-normalizer: {seen-data: true}`.
 *
 * @example
 * ```ts
 * const info = await normalizePackage(new PackageStorage(workdir), loadId);
 * console.log(info.rows); // { issues: 20, issues__labels: 31 }
 * ```
 */
export async function normalizePackage(
  storage: PackageStorage,
  loadId: string,
  options: NormalizePackageOptions = {},
): Promise<NormalizeInfo> {
  const source = storage.path("extracted", loadId);
  const schemaText = await Deno.readTextFile(join(source, "schema.json")).catch((e) => {
    throw new Error(`Cannot normalize package "${loadId}": schema.json cannot be read`, {
      cause: e,
    });
  });
  const schema = fromStoredJson(schemaText);
  await storage.remove("normalizing", loadId);
  const target = await storage.create("normalizing", loadId);

  const evolution = new SchemaEvolution(schema, { schemaContract: options.schemaContract });
  const jobs = new CopyJobs(target, schema, options.chunkRows ?? 200, options.maxFileBytes);
  const inputs = (await storage.jobs("extracted", loadId)).filter((p) =>
    EXTRACTED_SUFFIXES.some((s) => p.endsWith(s))
  );
  for (const path of inputs) {
    await options.hook?.("normalize_file");
    const name = path.split(/[\\/]/).pop()!.replace(/\.gz$/, "");
    const { table } = parseJobFileName(name);
    if (table === STATE_TABLE) schema.tables[STATE_TABLE] ??= pipelineStateTable();
    const context = {
      schema,
      table,
      loadId,
      preferredType: evolution.settings.preferredType,
      newRowId: options.newRowId,
    };
    let lines = 0;
    for await (const line of readLines(path)) {
      if (!line.trim()) continue;
      lines++;
      let parsed;
      try {
        parsed = parseRecord(line);
      } catch (e) {
        throw new Error(
          `Cannot normalize package "${loadId}": bad JSON in "${name}" line ${lines}`,
          {
            cause: e,
          },
        );
      }
      // dlt writes a list of items per line; a line may also hold a single record
      const items = Array.isArray(parsed) ? parsed : [parsed];
      for (const item of items) {
        // rows dropped by the schema contract take their nested rows with them, as in dlt
        let dropped: Set<unknown> | undefined;
        for (const { table: t, parentTable, row } of normalizeItem(item, context)) {
          if (dropped?.has(row.get(C_DLT_PARENT_ID))) {
            dropped.add(row.get(C_DLT_ID));
            continue;
          }
          const coerced = evolution.coerceRow(row, { table: t, parentTable });
          if (coerced) {
            const flushing = jobs.add(t, coerced);
            if (flushing) await flushing;
          } else (dropped ??= new Set()).add(row.get(C_DLT_ID));
        }
      }
    }
    if (lines === 0 && schema.tables[table]) {
      // an empty file (e.g. replace with no data): make sure the root table has its dlt
      // columns and write an empty job, as dlt does
      const root = schema.tables[table];
      if (!root["x-normalizer"]?.["seen-data"]) {
        for (const { table: t, parentTable, row } of normalizeItem(new Map(), context)) {
          evolution.coerceRow(row, { table: t, parentTable });
        }
      }
      await jobs.touch(table);
    }
  }
  const files = await jobs.close();

  for (const table of Object.keys(jobs.rows)) {
    const t = schema.tables[table];
    const x = (t["x-normalizer"] ??= {});
    delete x["evolve-columns-once"];
    if (!("seen-data" in x)) x["seen-data"] = true;
  }
  bumpVersion(schema);
  await writeFileAtomic(join(target, "schema.json"), toStoredJson(schema));
  await writeFileAtomic(join(target, "schema_updates.json"), JSON.stringify(evolution.updates));
  try {
    await Deno.copyFile(join(source, PACKAGE_STATE_FILE), join(target, PACKAGE_STATE_FILE));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const normalized = await storage.move(loadId, "normalizing", "normalized");
  await storage.remove("extracted", loadId);
  const jobsDir = join(normalized, NEW_JOBS);
  return {
    loadId,
    rows: jobs.rows,
    newTables: evolution.info.newTables,
    newColumns: evolution.info.newColumns,
    newVariantColumns: evolution.info.newVariantColumns,
    discardedRows: evolution.info.discardedRows,
    discardedValues: evolution.info.discardedValues,
    jobs: files.map((f) => join(jobsDir, f.split(/[\\/]/).pop()!)).sort(),
    schemaVersion: schema.version,
    schemaVersionHash: schema.version_hash,
  };
}
