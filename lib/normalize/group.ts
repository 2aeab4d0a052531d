/**
 * Normalizing a group of extracted files (those of one root table, or all of a package) into
 * COPY job files: the per-file loop of the normalize stage, run in the main thread or in a
 * worker (`worker.ts`) when a package's root tables are normalized in parallel.
 *
 * @module
 */

import { join } from "node:path";
import { C_DLT_ID, C_DLT_PARENT_ID, STATE_TABLE } from "../schema/names.ts";
import type { SchemaContract } from "../schema/contract.ts";
import { fromStoredJson } from "../schema/export.ts";
import { completeColumnNames, pipelineStateTable } from "../schema/schema.ts";
import type { DataType, StoredSchema, Table } from "../schema/types.ts";
import { JobWriter } from "../storage/job_writer.ts";
import { readLineBatches } from "../storage/read_lines.ts";
import { NEW_JOBS, parseJobFileName, uniqId } from "../storage/package_storage.ts";
import { COPY_NULL, encodeCopyRow } from "./copy_format.ts";
import { type FastLine, FastRows } from "./fast_rows.ts";
import { type EvolutionInfo, SchemaEvolution } from "./evolve.ts";
import { isPlainJsonText, parseJson } from "./json_value.ts";
import {
  type ItemContext,
  KEY_ORDER_LOST,
  type NormalizedRow,
  normalizeItem,
} from "./relational.ts";

/** What every group of a package shares (plain data: it is posted to workers). */
export interface GroupSettings {
  /** The package. */
  loadId: string;
  /** The normalized package being written (`load/new/<id>/`). */
  target: string;
  /** Rows buffered per table before they are written. */
  chunkRows: number;
  /** Size after which a job file is closed and a new one started. */
  maxFileBytes?: number;
  /** The run's schema contract. */
  schemaContract?: Partial<SchemaContract>;
  /**
   * Names of the extracted files whose lines are all plain JSON (the package's
   * `plain_json.json`): read with `JSON.parse` alone. @default {none}
   */
  plainFiles?: string[];
  /**
   * Records that fit the schema as it is skip the general path's row maps, coercion and
   * encoder (`fast_rows.ts`; the same lines). False only to compare the two (tests).
   * @default {true}
   */
  fastRows?: boolean;
}

/** Test hooks of a group run (functions: main thread only). */
export interface GroupHooks {
  /** Random root row ids (tests). */
  newRowId?: () => string;
  /** Called with `"normalize_file"` before each file is read. */
  hook?: (point: string) => void | Promise<void>;
}

/** A group normalized: its schema (evolved in place), evolution and open job writers. */
export interface GroupRun {
  schema: StoredSchema;
  evolution: SchemaEvolution;
  jobs: CopyJobs;
  /** Records the fast path wrote (`fast_rows.ts`). */
  fastRecords: number;
}

/** The file name and table of an extracted job file (`<table>.<file_id>.<retry>.<format>`). */
export function extractedJob(path: string): { name: string; table: string } {
  const name = path.split(/[\\/]/).pop()!.replace(/\.gz$/, "");
  return { name, table: parseJobFileName(name).table };
}

/** What a worker posts back for a group: the tables it created or changed, in schema order. */
export interface GroupResult {
  tables: [string, Table][];
  rows: Record<string, number>;
  files: string[];
  updates: Record<string, Table>;
  info: EvolutionInfo;
}

/** A message to a normalize worker. */
export interface GroupRequest {
  schemaText: string;
  paths: string[];
  settings: GroupSettings;
}

/** A worker's answer: the group's result, or why it failed. */
export type GroupReply = { ok: true; result: GroupResult } | { ok: false; message: string };

interface TableOutput {
  writer: JobWriter;
  /** Columns of the current file. */
  header?: string[];
  /** Rows, or lines of the fast path (encoded for the header they name). */
  rows: (Map<string, unknown> | FastLine)[];
}

/** Buffers rows per table and writes them as COPY job files. */
export class CopyJobs {
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
  add(table: string, row: Map<string, unknown> | FastLine): Promise<void> | undefined {
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
    let lastNames: string[] | undefined;
    let remap: ((line: string) => string) | undefined;
    const lines = out.rows.map((row) => {
      if (row instanceof Map) return encodeCopyRow(row, columns);
      // a line of the fast path, encoded for the header of its time: the columns completed
      // since (by rows of the general path) are put in their places
      if (row.names !== lastNames) {
        lastNames = row.names;
        remap = remapper(row.names, names);
      }
      return remap ? remap(row.line) : row.line;
    });
    out.rows = [];
    await out.writer.writeLines(lines);
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
 * Puts the fields of a COPY line encoded for the columns `from` in the places of the columns
 * `to` (a superset); undefined when they are the same.
 */
function remapper(from: string[], to: string[]): ((line: string) => string) | undefined {
  if (from.length === to.length && from.every((name, i) => to[i] === name)) return undefined;
  const at = to.map((name) => from.indexOf(name));
  return (line) => {
    const fields = line.split("\t");
    return at.map((i) => i < 0 ? COPY_NULL : fields[i]).join("\t");
  };
}

/**
 * Normalizes the lines of extracted files, a file at a time and a batch of lines at a time,
 * into COPY jobs under `settings.target`, evolving `schema` in place: the body of
 * {@linkcode normalizeGroup}, and of a follower that reads files while they are written.
 */
export class GroupNormalizer {
  readonly schema: StoredSchema;
  readonly evolution: SchemaEvolution;
  readonly jobs: CopyJobs;
  readonly #settings: GroupSettings;
  readonly #hooks: GroupHooks;
  /** Records that fit the schema as it is go straight to COPY lines. */
  readonly #fast?: FastRows;
  #file?: {
    name: string;
    table: string;
    lines: number;
    context: ItemContext;
  };

  constructor(schema: StoredSchema, settings: GroupSettings, hooks: GroupHooks = {}) {
    this.schema = schema;
    this.#settings = settings;
    this.#hooks = hooks;
    this.evolution = new SchemaEvolution(schema, { schemaContract: settings.schemaContract });
    this.jobs = new CopyJobs(settings.target, schema, settings.chunkRows, settings.maxFileBytes);
    if (settings.fastRows !== false) {
      this.#fast = new FastRows(this.evolution, settings.loadId, hooks.newRowId);
    }
  }

  /** Records the fast path wrote. */
  get fastRecords(): number {
    return this.#fast?.records ?? 0;
  }

  /**
   * Starts the extracted file `path`; `plain` when the extract vouched that `JSON.parse`
   * reads its lines exactly (else every line gets the exact parser's checks).
   */
  beginFile(path: string, plain: boolean): void {
    const { name, table } = extractedJob(path);
    if (table === STATE_TABLE && !this.schema.tables[STATE_TABLE]) {
      this.schema.tables[STATE_TABLE] = pipelineStateTable();
      this.#fast?.reset();
    }
    this.#file = {
      name,
      table,
      lines: 0,
      context: {
        schema: this.schema,
        table,
        loadId: this.#settings.loadId,
        preferredType: this.evolution.settings.preferredType,
        newRowId: this.#hooks.newRowId,
        fromPlainParse: plain,
      },
    };
  }

  /**
   * From now on, reads the current file's lines with plain `JSON.parse` (`plain`: the extract
   * vouched for the file) or with the exact parser's checks.
   */
  setPlain(plain: boolean): void {
    this.#file!.context.fromPlainParse = plain;
  }

  /** The items of the current file's line `line` (its `lines`-th), parsed by `parse`. */
  #items(line: string, parse: (line: string) => unknown): unknown[] {
    const file = this.#file!;
    let parsed;
    try {
      parsed = parse(line);
    } catch (e) {
      throw new Error(
        `Cannot normalize package "${this.#settings.loadId}": bad JSON in "${file.name}" line ${file.lines}`,
        { cause: e },
      );
    }
    // dlt writes a list of items per line; a line may also hold a single record
    return Array.isArray(parsed) ? parsed : [parsed];
  }

  /**
   * Normalizes complete lines of the current file, in order. A line of a file the extract did
   * not vouch for is read with plain `JSON.parse` too, fast path included, when that reads it
   * exactly (no number it would change, no integer-like key), else with the exact parser.
   */
  async lines(lines: string[]): Promise<void> {
    const file = this.#file!;
    const { evolution, jobs } = this;
    for (const line of lines) {
      if (!line.trim()) continue;
      file.lines++;
      const plain = file.context.fromPlainParse || isPlainJsonText(line);
      const items = this.#items(line, plain ? JSON.parse : parseJson);
      let exactItems: unknown[] | undefined;
      const fast = plain ? this.#fast : undefined;
      for (let i = 0; i < items.length; i++) {
        const fastLines = fast?.lines(items[i], file.table);
        if (fastLines !== undefined) {
          for (let l = 0; l < fastLines.length; l++) {
            const flushing = jobs.add(fastLines[l].table, fastLines[l]);
            if (flushing) await flushing;
          }
          continue;
        }
        let rows: NormalizedRow[];
        try {
          rows = normalizeItem(items[i], file.context);
        } catch (e) {
          if (e !== KEY_ORDER_LOST) throw e;
          // JSON.parse moved an integer-like key first: the line again, keys in text order
          exactItems ??= this.#items(line, parseJson);
          rows = normalizeItem(exactItems[i], { ...file.context, fromPlainParse: false });
        }
        // rows dropped by the schema contract take their nested rows with them, as in dlt
        let dropped: Set<unknown> | undefined;
        for (const { table: t, parentTable, row } of rows) {
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
  }

  /** Ends the current file: one without a line still gets its (header-only) job, as in dlt. */
  async endFile(): Promise<void> {
    const file = this.#file!;
    this.#file = undefined;
    const schema = this.schema;
    if (file.lines === 0 && schema.tables[file.table]) {
      // an empty file (e.g. replace with no data): make sure the root table has its dlt
      // columns and write an empty job, as dlt does
      const root = schema.tables[file.table];
      if (!root["x-normalizer"]?.["seen-data"]) {
        for (const { table: t, parentTable, row } of normalizeItem(new Map(), file.context)) {
          this.evolution.coerceRow(row, { table: t, parentTable });
        }
      }
      await this.jobs.touch(file.table);
    }
  }
}

/**
 * Normalizes `paths` (extracted job files, in order) into COPY jobs under `settings.target`,
 * evolving `schema` in place. The job writers are left open: {@linkcode CopyJobs.close} them.
 */
export async function normalizeGroup(
  schema: StoredSchema,
  paths: string[],
  settings: GroupSettings,
  hooks: GroupHooks = {},
): Promise<GroupRun> {
  const group = new GroupNormalizer(schema, settings, hooks);
  const plainFiles = new Set(settings.plainFiles);
  for (const path of paths) {
    await hooks.hook?.("normalize_file");
    // lines the extract vouches for skip the scans for big numbers and integer-like keys (the
    // flattener finds the latter)
    group.beginFile(path, plainFiles.has(extractedJob(path).name));
    for await (const lines of readLineBatches(path)) await group.lines(lines);
    await group.endFile();
  }
  return {
    schema,
    evolution: group.evolution,
    jobs: group.jobs,
    fastRecords: group.fastRecords,
  };
}

/**
 * Runs a group for a worker: parses the package's schema, normalizes, closes the job files and
 * returns the tables the group created or changed (in schema order) with its counts.
 */
export async function runGroup(request: GroupRequest): Promise<GroupResult> {
  const before = fromStoredJson(request.schemaText);
  const initial = new Map(Object.entries(before.tables).map(([k, v]) => [k, JSON.stringify(v)]));
  return await resultOfGroup(
    await normalizeGroup(before, request.paths, request.settings),
    initial,
  );
}

/**
 * Closes a group's job files; what it did: the tables it created or changed (from `initial`,
 * each table's JSON when it started), in schema order, with its counts.
 */
export async function resultOfGroup(
  run: GroupRun,
  initial: Map<string, string>,
): Promise<GroupResult> {
  const files = await run.jobs.close();
  const tables: [string, Table][] = [];
  for (const [name, table] of Object.entries(run.schema.tables)) {
    if (initial.get(name) !== JSON.stringify(table)) tables.push([name, table]);
  }
  return {
    tables,
    rows: run.jobs.rows,
    files,
    updates: run.evolution.updates,
    info: run.evolution.info,
  };
}
