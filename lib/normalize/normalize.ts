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
import type { SchemaContract } from "../schema/contract.ts";
import { bumpVersion } from "../schema/hash.ts";
import { fromStoredJson, toStoredJson } from "../schema/export.ts";
import type { StoredSchema } from "../schema/types.ts";
import { storedSchemaProblem } from "../schema/schema.ts";
import {
  NEW_JOBS,
  PACKAGE_STATE_FILE,
  packageAdvice,
  type PackageStorage,
  parseJsonFile,
  PLAIN_JSON_FILE,
  writeFileAtomic,
} from "../storage/package_storage.ts";
import { emptyEvolutionInfo, type SchemaEvolution } from "./evolve.ts";
import {
  extractedJob,
  type GroupReply,
  type GroupRequest,
  type GroupResult,
  type GroupSettings,
  normalizeGroup,
  runGroup,
} from "./group.ts";
import type { ExtractFollower } from "./follow.ts";

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
  /** Threads that normalized the package (1: the main thread alone). */
  threads: number;
  /** Whether a worker normalized it while it was extracted ({@linkcode followExtract}). */
  followed: boolean;
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
  /**
   * Threads normalizing at most (the main one included): the files of different root tables
   * are normalized in parallel, each table's files in order by one thread, and the results
   * merged in file order, so the package is the same as with 1 (dlt's `normalize.workers`).
   * Each extra thread costs a V8 isolate (about 50 to 90 MB at peak) and ~100 ms to start.
   * @default {the number of CPUs, at most 4, for packages of parallelMinBytes or more}
   */
  workers?: number;
  /**
   * Extracted bytes under which one thread does it all.
   * @default {8 MiB when workers is given, else 32 MiB: only big packages pay for a worker}
   */
  parallelMinBytes?: number;
  /**
   * The package followed while it was extracted ({@linkcode followExtract}): its groups are
   * used when they are what normalizing the package gives, else the package is normalized
   * as usual. @default {undefined}
   */
  follower?: ExtractFollower;
  /**
   * Records that fit the schema as it is go straight to COPY lines (see
   * {@linkcode GroupSettings.fastRows}); false only to compare (tests). @default {true}
   */
  fastRows?: boolean;
}

/** Rows buffered per table before they are written (the default of `chunkRows`). */
export const CHUNK_ROWS = 200;

/** Below this many extracted bytes a worker's start (~100 ms) outweighs what it saves. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/** Without a configured `workers`, only packages this big pay a worker's memory. */
export const AUTO_PARALLEL_MIN_BYTES = 32 << 20;

/** Default of {@linkcode NormalizePackageOptions.workers}: the CPUs, at most 4. */
export function defaultNormalizeWorkers(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

const EXTRACTED_SUFFIXES = [".typed-jsonl", ".jsonl", ".typed-jsonl.gz", ".jsonl.gz"];

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
  const schemaPath = join(source, "schema.json");
  const schemaText = await Deno.readTextFile(schemaPath).catch((e) => {
    throw new Error(`Cannot normalize package "${loadId}": schema.json cannot be read`, {
      cause: e,
    });
  });
  // a damaged schema is told at once, with what to do (not as a parse error in a worker)
  parseJsonFile<StoredSchema>(schemaPath, schemaText, {
    check: storedSchemaProblem,
    advice: packageAdvice(source),
  });
  const inputs = (await storage.jobs("extracted", loadId)).filter((p) =>
    EXTRACTED_SUFFIXES.some((s) => p.endsWith(s))
  );
  const settings: GroupSettings = {
    loadId,
    target: "",
    chunkRows: options.chunkRows ?? CHUNK_ROWS,
    maxFileBytes: options.maxFileBytes,
    schemaContract: options.schemaContract,
    plainFiles: await readPlainFiles(join(source, PLAIN_JSON_FILE)),
    fastRows: options.fastRows,
  };
  /** An empty `load/new/<id>/` (what an earlier attempt wrote there is gone). */
  const freshTarget = async () => {
    await storage.remove("normalizing", loadId);
    settings.target = await storage.create("normalizing", loadId);
  };
  let result: NormalizedGroups | undefined;
  if (options.follower) {
    settings.target = storage.path("normalizing", loadId);
    for (const _ of inputs) await options.hook?.("normalize_file");
    const groups = await options.follower.finish(schemaText, inputs, settings);
    result = groups && mergeGroups(schemaText, groups, 2);
    if (result) result.followed = true;
  }
  const plan = result ? undefined : await parallelPlan(inputs, options);
  if (plan) {
    await freshTarget();
    // a failure here is reproduced, with its exact error, by the one pass below
    result = await normalizeInParallel(schemaText, plan, settings, options).catch(() => undefined);
  }
  if (!result) {
    await freshTarget();
    const group = await normalizeGroup(fromStoredJson(schemaText), inputs, settings, options);
    const files = await group.jobs.close();
    result = { ...group, rows: group.jobs.rows, files, threads: 1 };
  }
  const { schema, evolution, files, rows } = result;
  const target = settings.target;
  for (const table of Object.keys(rows)) {
    const t = schema.tables[table];
    const x = (t["x-normalizer"] ??= {});
    delete x["evolve-columns-once"];
    if (!("seen-data" in x)) x["seen-data"] = true;
  }
  bumpVersion(schema);
  await writeFileAtomic(join(target, "schema.json"), toStoredJson(schema));
  await writeFileAtomic(join(target, "schema_updates.json"), JSON.stringify(evolution.updates));
  await writeFileAtomic(join(target, ROWS_FILE), JSON.stringify(rows));
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
    rows,
    newTables: evolution.info.newTables,
    newColumns: evolution.info.newColumns,
    newVariantColumns: evolution.info.newVariantColumns,
    discardedRows: evolution.info.discardedRows,
    discardedValues: evolution.info.discardedValues,
    jobs: files.map((f) => join(jobsDir, f.split(/[\\/]/).pop()!)).sort(),
    schemaVersion: schema.version,
    schemaVersionHash: schema.version_hash,
    threads: result.threads,
    followed: result.followed ?? false,
  };
}

/** Rows per table of a normalized package (what a later run that loads it reports). */
export const ROWS_FILE = "rows.json";

/**
 * The rows per table a normalized package holds, from its `rows.json` (empty for a package
 * normalized before that file was written).
 *
 * @example
 * ```ts
 * await normalizedRows(storage, loadId); // { issues: 20, issues__labels: 31 }
 * ```
 */
export async function normalizedRows(
  storage: PackageStorage,
  loadId: string,
): Promise<Record<string, number>> {
  try {
    const rows = JSON.parse(
      await Deno.readTextFile(join(storage.path("normalized", loadId), ROWS_FILE)),
    );
    return typeof rows === "object" && rows !== null && !Array.isArray(rows) ? rows : {};
  } catch {
    return {};
  }
}

/** The names in a package's `plain_json.json`; none when it is missing or not such a list. */
async function readPlainFiles(path: string): Promise<string[]> {
  try {
    const list = JSON.parse(await Deno.readTextFile(path));
    return Array.isArray(list) ? list.filter((x) => typeof x === "string") : [];
  } catch {
    return []; // no list (an older or foreign package): every line gets the checks
  }
}

/** The files of one root table, contiguous in the package's file order. */
interface FileGroup {
  paths: string[];
  bytes: number;
}

/** Groups of a package to normalize in parallel, and the threads to use. */
interface ParallelPlan {
  groups: FileGroup[];
  threads: number;
}

/** Groups merged: the evolved schema, what evolved, rows, job files and threads used. */
interface NormalizedGroups {
  schema: StoredSchema;
  evolution: Pick<SchemaEvolution, "updates" | "info">;
  rows: Record<string, number>;
  files: string[];
  threads: number;
  /** Normalized while it was extracted. */
  followed?: boolean;
}

/**
 * The package's files grouped by root table, and the threads to use, when they are worth
 * normalizing in parallel (two tables or more, enough bytes, more than one worker allowed, no
 * test id hook); undefined otherwise. The files come sorted by name (`<table>.<file_id>…`), so
 * each table's files are contiguous.
 */
async function parallelPlan(
  inputs: string[],
  options: NormalizePackageOptions,
): Promise<ParallelPlan | undefined> {
  const workers = options.workers ?? defaultNormalizeWorkers();
  if (workers < 2 || options.newRowId) return undefined;
  const groups: FileGroup[] = [];
  let last = "";
  let bytes = 0;
  for (const path of inputs) {
    const { table } = extractedJob(path);
    const size = (await Deno.stat(path)).size;
    bytes += size;
    if (table !== last) {
      groups.push({ paths: [], bytes: 0 });
      last = table;
    }
    groups[groups.length - 1].paths.push(path);
    groups[groups.length - 1].bytes += size;
  }
  const minBytes = options.parallelMinBytes ??
    (options.workers === undefined ? AUTO_PARALLEL_MIN_BYTES : PARALLEL_MIN_BYTES);
  if (groups.length < 2 || bytes < minBytes) return undefined;
  return { groups, threads: Math.min(workers, groups.length) };
}

/**
 * Normalizes the groups in the main thread and in up to `workers - 1` workers, largest group
 * first, each from the package's schema; merges them in file order. Undefined when two groups
 * changed the same table (the caller then does one pass, as it does when this throws).
 */
async function normalizeInParallel(
  schemaText: string,
  { groups, threads }: ParallelPlan,
  settings: GroupSettings,
  options: NormalizePackageOptions,
): Promise<NormalizedGroups | undefined> {
  const queue = groups.map((_, i) => i).sort((a, b) => groups[b].bytes - groups[a].bytes);
  const results: GroupResult[] = [];
  let failed = false;
  const take = async (): Promise<number | undefined> => {
    const i = failed ? undefined : queue.shift();
    if (i !== undefined) {
      for (const _ of groups[i].paths) {
        await options.hook?.("normalize_file");
      }
    }
    return i;
  };
  const request = (i: number): GroupRequest => ({ schemaText, paths: groups[i].paths, settings });
  const workers: Worker[] = [];
  try {
    const inWorker = async () => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      workers.push(worker);
      for (let i = await take(); i !== undefined; i = await take()) {
        const reply = await new Promise<GroupReply>((resolve, reject) => {
          worker.onmessage = (e: MessageEvent<GroupReply>) => resolve(e.data);
          worker.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`normalize worker failed: ${e.message}`));
          };
          worker.postMessage(request(i));
        });
        if (!reply.ok) throw new Error(reply.message);
        results[i] = reply.result;
      }
    };
    const inMain = async () => {
      for (let i = await take(); i !== undefined; i = await take()) {
        results[i] = await runGroup(request(i));
      }
    };
    // every thread stops before this returns: the caller may redo the package in one pass
    const runs = [inMain(), ...Array.from({ length: threads - 1 }, inWorker)].map((p) =>
      p.catch((e) => {
        failed = true;
        throw e;
      })
    );
    const settled = await Promise.allSettled(runs);
    for (const s of settled) if (s.status === "rejected") throw s.reason;
  } finally {
    for (const w of workers) w.terminate();
  }

  return mergeGroups(schemaText, results, threads);
}

/**
 * Groups normalized apart (each from the package's schema), merged in file order: the
 * package's schema with the tables each group changed, their updates, rows and files.
 * Undefined when two groups changed the same table (then one pass must do it).
 */
function mergeGroups(
  schemaText: string,
  results: GroupResult[],
  threads: number,
): NormalizedGroups | undefined {
  const schema = fromStoredJson(schemaText);
  const evolution: NormalizedGroups["evolution"] = { updates: {}, info: emptyEvolutionInfo() };
  const rows: Record<string, number> = {};
  const files: string[] = [];
  // tables a group changed or wrote rows to: two groups meeting in one table (a root table
  // named like another's nested table) would need one pass to keep its columns and file order
  const touched = new Set<string>();
  for (const r of results) {
    const mine = new Set([...r.tables.map(([name]) => name), ...Object.keys(r.rows)]);
    for (const name of mine) if (touched.has(name)) return undefined;
    for (const name of mine) touched.add(name);
    for (const [name, table] of r.tables) schema.tables[name] = table;
    Object.assign(evolution.updates, r.updates);
    Object.assign(rows, r.rows);
    files.push(...r.files);
    const info = evolution.info;
    info.newTables.push(...r.info.newTables);
    Object.assign(info.newColumns, r.info.newColumns);
    Object.assign(info.newVariantColumns, r.info.newVariantColumns);
    Object.assign(info.discardedRows, r.info.discardedRows);
    Object.assign(info.discardedValues, r.info.discardedValues);
  }
  return { schema, evolution, rows, files, threads };
}
