/**
 * The load stage: one normalized package into the destination in ONE transaction — schema
 * migration, `_dlt_version`, COPY of every job (directly for append and replace, through
 * `<dataset>_staging` for merge), the merge SQL, and the `_dlt_loads` row. A crash at any point
 * leaves the old load or the new one, never half; a package already in `_dlt_loads` is skipped.
 *
 * @module
 */

import { basename, join } from "node:path";
import { DestinationError } from "../common/errors.ts";
import {
  C_DLT_ID,
  C_DLT_ROOT_ID,
  LOADS_TABLE,
  SCHEMA_ENGINE_VERSION,
  STAGING_DATASET_SUFFIX,
  VERSION_TABLE,
} from "../schema/names.ts";
import { mergeStrategyOf, storedSchemaProblem } from "../schema/schema.ts";
import type { StoredSchema, Table } from "../schema/types.ts";
import {
  packageAdvice,
  type PackageStorage,
  parseJobFileName,
  readJsonIfExists,
} from "../storage/package_storage.ts";
import { completeColumns, DestinationTables, type MigrationInfo, planMigration } from "./ddl.ts";
import { type CopyJob, openCopyJob } from "./job_file.ts";
import { dropPrecopySql, movePrecopied, precopy, stalePrecopies, uniqueNames } from "./precopy.ts";
import { qualified, quoteIdent, type SqlClient } from "./sql_client.ts";

/** A job file of a package COPYed (see {@linkcode LoadOptions.onJob}). */
export interface LoadJobDone {
  table: string;
  path: string;
  done: number;
  total: number;
}

/** Options of {@linkcode loadPackage}. */
export interface LoadOptions {
  /** The dataset (Postgres schema) to load into. */
  dataset: string;
  /** Clock for `inserted_at`. @default {() => new Date()} */
  now?: () => Date;
  /**
   * Called once for each job file of the package, when its rows are COPYed (set aside or in the
   * transaction; a file set aside and moved in is told once): `done` counts the files told so
   * far, `total` is the package's number of job files. After a failed side COPY, which the
   * transaction redoes, the count starts again from 1. A callback that throws is ignored.
   * @default {undefined}
   */
  onJob?: (job: LoadJobDone) => void;
  /**
   * Connections COPYing the job files of the tables this load creates, in parallel, before its
   * transaction moves them into the dataset (`lib/load/precopy.ts`; Postgres servers only,
   * dlt's `[load] workers`). @default {1}
   */
  workers?: number;
  /** Job files of such tables smaller than this in all are COPYed in the transaction. */
  precopyMinBytes?: number;
  /** Told when those tables could not be COPYed aside (the transaction COPYs them). */
  onWarning?: (message: string) => void;
  /** The package's `schema.json`, when the caller read it already. @default {read here} */
  schema?: StoredSchema;
  /**
   * Test hook called at named points inside the transaction ("migrated", "copied",
   * "merged"); throwing from it aborts the load. @default {undefined}
   */
  hook?: (point: string) => void | Promise<void>;
}

/** What loading one package did. */
export interface LoadPackageInfo {
  loadId: string;
  /** `loaded`, or `already_loaded` when `_dlt_loads` had the id (crash after commit). */
  status: "loaded" | "already_loaded";
  jobs: number;
  migration: MigrationInfo;
  /** Tables that received data, root and nested. */
  tables: string[];
  /** Tables COPYed over parallel connections before the transaction (see `workers`). */
  precopied: string[];
  schemaVersionHash: string;
}

/** Package-level instructions written by the pipeline at extract time. */
export interface PackageState {
  /** Root tables with write disposition replace extracted in this package (even empty). */
  replace_tables?: string[];
  /** Tables to drop before loading (`--refresh drop_sources|drop_resources`), dlt's key. */
  dropped_tables?: string[];
  /** Tables to empty before loading (`--refresh drop_data`), dlt's key. */
  truncated_tables?: string[];
  [key: string]: unknown;
}

/** The root table of `table` (itself when it has no parent). */
export function rootOf(schema: StoredSchema, table: string): string {
  let t = table;
  const seen = new Set<string>();
  while (schema.tables[t]?.parent && !seen.has(t)) {
    seen.add(t);
    t = schema.tables[t].parent!;
  }
  return t;
}

/** Nested tables of `root` (all depths) in schema order. */
export function nestedTablesOf(schema: StoredSchema, root: string): string[] {
  return Object.keys(schema.tables).filter((t) => t !== root && rootOf(schema, t) === root);
}

function keyColumns(table: Table, hint: "primary_key" | "merge_key"): string[] {
  return Object.values(table.columns).filter((c) => c[hint] === true).map((c) => c.name);
}

/**
 * dlt's `hard_delete` condition on the row aliased `alias`: the column is true (bool) or not
 * null (any other type); such a row deletes its key's rows and is not itself loaded.
 */
function hardDeleted(table: Table, alias: string): string | undefined {
  const col = Object.values(table.columns).find((c) => c.hard_delete === true && c.data_type);
  if (!col) return undefined;
  const ref = `${alias}.${quoteIdent(col.name)}`;
  return col.data_type === "bool" ? `COALESCE(${ref}, false)` : `${ref} IS NOT NULL`;
}

/**
 * Which of several rows with one key is kept: dlt's `dedup_sort` column (`desc`: the highest
 * value, `asc`: the lowest), then the last written (highest `ctid`).
 */
function dedupOrder(table: Table): string {
  const col = Object.values(table.columns).find((c) => c.dedup_sort && c.data_type);
  const sort = col ? `${quoteIdent(col.name)} ${col.dedup_sort === "asc" ? "ASC" : "DESC"}, ` : "";
  return `${sort}ctid DESC`;
}

async function copyJob(client: SqlClient, dataset: string, job: CopyJob): Promise<void> {
  const cols = job.columns.map(quoteIdent).join(",");
  await client.copyFrom(`COPY ${qualified(dataset, job.table)} (${cols}) FROM STDIN`, job.rows());
}

function columnList(schema: StoredSchema, table: string): string {
  return completeColumns(schema.tables[table]).map((c) => quoteIdent(c.name)).join(", ");
}

/** dlt's delete-insert merge of one table chain from staging into the dataset. */
export function deleteInsertSql(
  schema: StoredSchema,
  options: { dataset: string; staging: string; root: string; nested: string[]; uniq: string },
): string[] {
  const { dataset, staging, root, nested, uniq } = options;
  const table = schema.tables[root];
  const pk = keyColumns(table, "primary_key");
  const mk = keyColumns(table, "merge_key");
  const rootCols = columnList(schema, root);
  const stmts: string[] = [];
  if (pk.length === 0 && mk.length === 0) {
    stmts.push(
      `INSERT INTO ${qualified(dataset, root)} (${rootCols}) SELECT ${rootCols} FROM ${
        qualified(staging, root)
      }`,
    );
    for (const t of nested) {
      const cols = columnList(schema, t);
      stmts.push(
        `INSERT INTO ${qualified(dataset, t)} (${cols}) SELECT ${cols} FROM ${
          qualified(staging, t)
        }`,
      );
    }
    return stmts;
  }
  const keyMatch = (keys: string[]) => keys.map((k) => `d.${quoteIdent(k)} = s.${quoteIdent(k)}`);
  const conds: string[] = [];
  if (pk.length) conds.push(keyMatch(pk).join(" AND "));
  if (mk.length) conds.push(keyMatch(mk).join(" AND "));
  const where = `EXISTS (SELECT 1 FROM ${qualified(staging, root)} AS s WHERE ${
    conds.map((c) => `(${c})`).join(" OR ")
  })`;
  const del = quoteIdent(`delete_${uniq}`);
  const ins = quoteIdent(`insert_${uniq}`);
  const id = quoteIdent(C_DLT_ID);
  const rootId = quoteIdent(C_DLT_ROOT_ID);
  if (nested.length) {
    stmts.push(
      `CREATE TEMPORARY TABLE ${del} ON COMMIT DROP AS SELECT d.${id} FROM ${
        qualified(dataset, root)
      } AS d WHERE ${where}`,
    );
    for (const t of nested) {
      stmts.push(
        `DELETE FROM ${qualified(dataset, t)} WHERE ${rootId} IN (SELECT ${id} FROM ${del})`,
      );
    }
    stmts.push(
      `DELETE FROM ${qualified(dataset, root)} WHERE ${id} IN (SELECT ${id} FROM ${del})`,
    );
  } else {
    stmts.push(`DELETE FROM ${qualified(dataset, root)} AS d WHERE ${where}`);
  }
  // Keep one row per primary key: the last one written to staging (the newest page), or the
  // first by `dedup_sort`. With only a merge key every staged row is inserted, as in dlt (a
  // merge key names a slice of rows to replace, not one row). Rows marked `hard_delete` only
  // delete.
  const partition = pk.map(quoteIdent).join(", ");
  const deleted = hardDeleted(table, "t");
  const keep = [
    ...(pk.length ? ["t._dlt_dedup_rn = 1"] : []),
    ...(deleted ? [`NOT (${deleted})`] : []),
  ];
  const kept = keep.length ? ` WHERE ${keep.join(" AND ")}` : "";
  stmts.push(
    pk.length
      ? `CREATE TEMPORARY TABLE ${ins} ON COMMIT DROP AS SELECT ${id} FROM (SELECT *, ` +
        `ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${
          dedupOrder(table)
        }) AS _dlt_dedup_rn FROM ${qualified(staging, root)}) AS t${kept}`
      : `CREATE TEMPORARY TABLE ${ins} ON COMMIT DROP AS SELECT ${id} FROM ${
        qualified(staging, root)
      } AS t${kept}`,
  );
  stmts.push(
    `INSERT INTO ${qualified(dataset, root)} (${rootCols}) SELECT ${rootCols} FROM ${
      qualified(staging, root)
    } WHERE ${id} IN (SELECT ${id} FROM ${ins})`,
  );
  for (const t of nested) {
    const cols = columnList(schema, t);
    stmts.push(
      `INSERT INTO ${qualified(dataset, t)} (${cols}) SELECT ${cols} FROM ${
        qualified(staging, t)
      } WHERE ${rootId} IN (SELECT ${id} FROM ${ins})`,
    );
  }
  return stmts;
}

/** Merge strategies {@linkcode freshMergeSql} reproduces on tables created by the load. */
const FRESH_MERGE_STRATEGIES = new Set(["delete-insert"]);

/**
 * Merge strategies whose root `_dlt_id` is the key's hash: a key twice in one package (a record
 * read twice while GitLab's pages shifted) would break a `UNIQUE` `_dlt_id`, so they always go
 * through staging tables without `UNIQUE`, deduplicated by the merge.
 */
const KEY_HASH_STRATEGIES = new Set(["upsert", "insert-only"]);

/** Deletes all but the first row by `order` (the last written) of each `partition` group. */
function dedupSql(
  qualifiedTable: string,
  partition: string,
  returning = "",
  order = "ctid DESC",
): string {
  return `DELETE FROM ${qualifiedTable} AS d USING (SELECT c FROM (SELECT ctid AS c, ` +
    `ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${order}) AS rn FROM ${qualifiedTable}` +
    `) AS t WHERE t.rn > 1) AS dup WHERE d.ctid = dup.c${returning}`;
}

/**
 * The delete-insert merge of a table chain whose tables this load created (so they held
 * nothing before its COPY): what {@linkcode deleteInsertSql} would leave after going through
 * staging, done in place. It keeps the last row per primary key (every row when there is only
 * a merge key) and drops the nested rows of the others. Rows are in COPY order, so "last" is
 * the highest `ctid`, as in staging. (Upsert and insert-only always go through staging.)
 */
export function freshMergeSql(
  schema: StoredSchema,
  options: { dataset: string; root: string; nested: string[] },
): string[] {
  const { dataset, root, nested } = options;
  const table = schema.tables[root];
  const pk = keyColumns(table, "primary_key");
  const id = quoteIdent(C_DLT_ID);
  const rootId = quoteIdent(C_DLT_ROOT_ID);
  /** Removes the roots a statement returns (`RETURNING d._dlt_id`) with their nested rows. */
  const withNested = (removeRoots: string): string => {
    if (nested.length === 0) return removeRoots;
    const removeNested = nested.map((t, i) =>
      `n${i} AS (DELETE FROM ${
        qualified(dataset, t)
      } WHERE ${rootId} IN (SELECT ${id} FROM removed))`
    );
    return `WITH removed AS (${removeRoots}), ${removeNested.join(", ")} SELECT 1`;
  };
  const stmts: string[] = [];
  // delete-insert drops duplicates by primary key only (a merge key alone keeps every row)
  if (pk.length) {
    const partition = pk.map(quoteIdent).join(", ");
    const order = dedupOrder(table);
    stmts.push(
      withNested(dedupSql(qualified(dataset, root), partition, ` RETURNING d.${id}`, order)),
    );
  }
  // the rows left that are marked hard_delete only deleted (nothing was there to delete)
  const deleted = hardDeleted(table, "d");
  if (deleted) {
    stmts.push(
      withNested(`DELETE FROM ${qualified(dataset, root)} AS d WHERE ${deleted} RETURNING d.${id}`),
    );
  }
  return stmts;
}

/**
 * dlt's `upsert` (and `insert-only`) merge of one table chain with `MERGE` (PostgreSQL ≥ 15):
 * the root on its primary key, nested tables on their deterministic `_dlt_id`, then nested rows
 * of merged roots that are no longer in staging are deleted. Staging rows are deduplicated
 * (the last one written wins: nested rows of two rows with one key share their ids, so
 * `dedup_sort`, dlt's delete-insert hint, cannot apply) so `MERGE` never touches a row twice.
 * A root row marked `hard_delete` deletes its key's row and nested rows instead.
 */
export function upsertSql(
  schema: StoredSchema,
  options: {
    dataset: string;
    staging: string;
    root: string;
    nested: string[];
    insertOnly?: boolean;
  },
): string[] {
  const { dataset, staging, root, nested } = options;
  const rootTable = schema.tables[root];
  const pk = keyColumns(rootTable, "primary_key");
  const id = quoteIdent(C_DLT_ID);
  const rootId = quoteIdent(C_DLT_ROOT_ID);
  // a root row marked hard_delete deletes its key's row and is not inserted (dlt)
  const deleted = hardDeleted(rootTable, "s");
  const merge = (table: string, keys: string[], update: boolean): string => {
    const isRoot = table === root;
    const cols = completeColumns(schema.tables[table]).map((c) => quoteIdent(c.name));
    const part = keys.map(quoteIdent).join(", ");
    const source =
      `(SELECT ${cols.join(", ")} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${part} ` +
      `ORDER BY ctid DESC) AS _dlt_dedup_rn FROM ${
        qualified(staging, table)
      }) AS t WHERE t._dlt_dedup_rn = 1)`;
    const on = keys.map((k) => `d.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
    const set = cols.map((c) => `${c} = s.${c}`).join(", ");
    const del = isRoot && deleted ? deleted : undefined;
    return `MERGE INTO ${qualified(dataset, table)} AS d USING ${source} AS s ON ${on} ` +
      (del ? `WHEN MATCHED AND ${del} THEN DELETE ` : "") +
      (update ? `WHEN MATCHED THEN UPDATE SET ${set} ` : "") +
      `WHEN NOT MATCHED${del ? ` AND NOT (${del})` : ""} THEN INSERT (${cols.join(", ")}) VALUES (${
        cols.map((c) => `s.${c}`).join(", ")
      })`;
  };
  const stmts = [merge(root, pk.length ? pk : [C_DLT_ID], !options.insertOnly)];
  for (const t of nested) {
    stmts.push(merge(t, [C_DLT_ID], !options.insertOnly));
    if (options.insertOnly) continue;
    stmts.push(
      `DELETE FROM ${qualified(dataset, t)} AS d WHERE EXISTS (SELECT 1 FROM ${
        qualified(staging, root)
      } AS r WHERE r.${id} = d.${rootId}) AND NOT EXISTS (SELECT 1 FROM ${
        qualified(staging, t)
      } AS n WHERE n.${id} = d.${id})`,
    );
  }
  if (deleted) {
    // then the nested rows of deleted roots (the kept staging row of each key decides)
    const marked = `SELECT ${id} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${
      (pk.length ? pk : [C_DLT_ID]).map(quoteIdent).join(", ")
    } ORDER BY ctid DESC) AS _dlt_dedup_rn FROM ${
      qualified(staging, root)
    }) AS s WHERE s._dlt_dedup_rn = 1 AND ${deleted}`;
    for (const t of nested) {
      stmts.push(`DELETE FROM ${qualified(dataset, t)} WHERE ${rootId} IN (${marked})`);
    }
  }
  return stmts;
}

/**
 * dlt's staged replace strategies for one table chain, after its rows were copied to staging:
 * `insert-from-staging` empties each table and inserts the staged rows; `staging-optimized`
 * drops each table and moves the staging table in its place (views on the table break, as in
 * dlt), then recreates an empty staging table. Both run inside the load transaction.
 */
export function stagedReplaceSql(
  chain: string[],
  options: { dataset: string; staging: string; schema: StoredSchema; replaceStrategy: string },
): string[] {
  const { dataset, staging, schema } = options;
  return chain.flatMap((t) => {
    if (options.replaceStrategy === "staging-optimized") {
      return [
        `DROP TABLE IF EXISTS ${qualified(dataset, t)}`,
        `ALTER TABLE ${qualified(staging, t)} SET SCHEMA ${quoteIdent(dataset)}`,
        `CREATE TABLE ${qualified(staging, t)} (LIKE ${qualified(dataset, t)} INCLUDING ALL)`,
      ];
    }
    const cols = columnList(schema, t);
    return [
      `DELETE FROM ${qualified(dataset, t)}`,
      `INSERT INTO ${qualified(dataset, t)} (${cols}) SELECT ${cols} FROM ${qualified(staging, t)}`,
    ];
  });
}

/**
 * dlt's `UnboundColumnException`: a merge table whose key names a column no record had (a
 * `primary_key` of the catalog that the data does not hold). Told before the load, with what to
 * change, instead of the SQL error of the merge.
 */
function unboundKeys(schema: StoredSchema): void {
  for (const [name, table] of Object.entries(schema.tables)) {
    if (table.write_disposition !== "merge" || !hasData(schema, name)) continue;
    for (const hint of ["primary_key", "merge_key"] as const) {
      const unbound = Object.values(table.columns).filter((c) => c[hint] === true && !c.data_type);
      if (unbound.length === 0) continue;
      const cols = unbound.map((c) => `"${c.name}"`).join(", ");
      throw new DestinationError(
        `Cannot load table "${name}": its ${hint} ${cols} names ${
          unbound.length === 1 ? "a column" : "columns"
        } that no record of this load had (dlt's UnboundColumnException): check the ` +
          `resource's ${hint} in the catalog against the fields GitLab returns`,
      );
    }
  }
}

function hasData(schema: StoredSchema, table: string): boolean {
  return completeColumns(schema.tables[table] ?? { name: table, columns: {} }).length > 0;
}

/** The table of job file `path`. */
function jobTable(path: string): string {
  return parseJobFileName(basename(path)).table;
}

/** Whether `_dlt_loads` of `dataset` (as `known` has it) holds load `loadId`. */
async function loadedAlready(
  client: SqlClient,
  known: DestinationTables,
  dataset: string,
  loadId: string,
): Promise<boolean> {
  if (!known.has(dataset, LOADS_TABLE)) return false;
  const rows = await client.query(
    `SELECT 1 FROM ${qualified(dataset, LOADS_TABLE)} WHERE load_id = $1`,
    [loadId],
  );
  return rows.length > 0;
}

/**
 * The chains of package `loadId` whose tables are all new to the dataset, COPYed over
 * `options.workers` connections before the load's transaction (see `precopy.ts`); undefined
 * when there are none or their files are small, the package is loaded already, or it failed.
 */
async function precopyNew(
  client: SqlClient,
  args: {
    schema: StoredSchema;
    dataset: string;
    loadId: string;
    jobPaths: string[];
    pkgState: PackageState;
    dropped: ReadonlySet<string>;
    options: LoadOptions;
    /** Told of each job file set aside. */
    onJob?: (job: { table: string; path: string }) => void;
  },
): Promise<{ aside: string; chains: string[][] } | undefined> {
  const { schema, dataset, loadId, options } = args;
  // each table's job files (in load order) and their bytes
  const paths = new Map<string, string[]>();
  const bytes = new Map<string, number>();
  let all = 0;
  for (const p of args.jobPaths) {
    const t = jobTable(p);
    const size = (await Deno.stat(p)).size;
    paths.set(t, [...(paths.get(t) ?? []), p]);
    bytes.set(t, (bytes.get(t) ?? 0) + size);
    all += size;
  }
  // (a package too small for it asks the destination nothing more)
  const minBytes = options.precopyMinBytes ?? PRECOPY_MIN_BYTES;
  if (all < minBytes) return undefined;
  let known: DestinationTables;
  try {
    known = await DestinationTables.read(client, [dataset]);
    if (await loadedAlready(client, known, dataset, loadId)) return undefined;
  } catch {
    return undefined; // the transaction meets it again, and tells it
  }
  const tables = Object.keys(schema.tables).filter((t) => hasData(schema, t));
  const created = new Set(tables.filter((t) => !known.has(dataset, t)));
  // a table whose UNIQUE would be named after another's here gets its name in the order the
  // transaction adds them: its chain stays there
  const names = uniqueNames(schema, [...created]);
  const chains = chainPlans(schema, args.jobPaths, args.pkgState, created)
    .filter((p) =>
      !p.staged && p.chain.length > 0 &&
      p.chain.every((t) => created.has(t) && !args.dropped.has(t) && names.get(t) === true)
    ).map((p) => p.chain);
  const asideBytes = chains.flat().reduce((n, t) => n + (bytes.get(t) ?? 0), 0);
  if (chains.length === 0 || asideBytes < minBytes) return undefined;
  try {
    // grants the dataset gives its new tables (ALTER DEFAULT PRIVILEGES … IN SCHEMA) apply only
    // to tables made in it, not to tables moved in: such a dataset gets its tables made there
    const [grants] = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_catalog.pg_default_acl " +
        "WHERE defaclnamespace = to_regnamespace($1) AND defaclobjtype = 'r'",
      [quoteIdent(dataset)],
    );
    if (grants.n > 0) return undefined;
  } catch {
    return undefined;
  }
  const aside = await precopy(client, {
    schema,
    dataset,
    loadId,
    chains,
    paths,
    bytes,
    connections: options.workers ?? 1,
    onJob: args.onJob,
    onWarning: options.onWarning,
  });
  return aside === undefined ? undefined : { aside, chains };
}

/** Tables set aside by a load that started this long ago are another's, killed: dropped. */
const STALE_PRECOPY_MS = 3600_000;

/** Job files of new tables smaller than this in all are COPYed in the load's transaction. */
const PRECOPY_MIN_BYTES = 4 << 20;

/**
 * The job files of `jobPaths` grouped by root table, each chain (the root and its nested
 * tables with data) with how it is loaded: `fresh` when every table of it is `created` by this
 * load (rows go straight in, a merge then only drops duplicates within the package), `staged`
 * when it goes through `<dataset>_staging`.
 */
function chainPlans(
  schema: StoredSchema,
  jobPaths: string[],
  pkgState: PackageState,
  created: ReadonlySet<string>,
) {
  const jobsByRoot = new Map<string, string[]>();
  for (const p of jobPaths) {
    const root = rootOf(schema, jobTable(p));
    const list = jobsByRoot.get(root) ?? [];
    list.push(p);
    jobsByRoot.set(root, list);
  }
  for (const root of pkgState.replace_tables ?? []) {
    if (!jobsByRoot.has(root)) jobsByRoot.set(root, []);
  }
  return [...jobsByRoot].map(([root, paths]) => {
    const rootTable = schema.tables[root];
    const disposition = rootTable?.write_disposition ?? "append";
    const nested = nestedTablesOf(schema, root).filter((t) => hasData(schema, t));
    const chain = [root, ...nested].filter((t) => hasData(schema, t));
    const replaceStrategy = (rootTable?.["x-replace-strategy"] as string | undefined) ??
      "truncate-and-insert";
    const mergeStrategy = disposition === "merge" ? mergeStrategyOf(schema, root) : undefined;
    // tables created by this very load are empty: rows go straight in (a merge then only
    // drops the duplicates within the package, as staging would have), no staging copy
    const fresh = chain.length > 0 && chain.every((t) => created.has(t)) &&
      (disposition === "replace" || FRESH_MERGE_STRATEGIES.has(mergeStrategy ?? ""));
    const staged = !fresh && (disposition === "merge" ||
      (disposition === "replace" && replaceStrategy !== "truncate-and-insert"));
    return {
      root,
      paths,
      disposition,
      nested,
      chain,
      replaceStrategy,
      mergeStrategy,
      staged,
      fresh,
    };
  });
}

/**
 * Loads normalized package `loadId` in one transaction and moves it to `loaded/`.
 *
 * @example
 * ```ts
 * const info = await loadPackage(client, { storage, loadId, dataset: "gitlab_data" });
 * ```
 */
export async function loadPackage(
  client: SqlClient,
  options: LoadOptions & { storage: PackageStorage; loadId: string },
): Promise<LoadPackageInfo> {
  const { storage, loadId, dataset } = options;
  const dir = storage.path("normalized", loadId);
  const advice = packageAdvice(dir);
  const schema = options.schema ?? await readJsonIfExists<StoredSchema>(join(dir, "schema.json"), {
    check: storedSchemaProblem,
    advice,
  });
  if (!schema) throw new DestinationError(`Cannot load package "${loadId}": schema.json missing`);
  const pkgState =
    (await readJsonIfExists<PackageState>(join(dir, "load_package_state.json"), { advice })) ??
      {};
  unboundKeys(schema);
  const jobPaths = await storage.jobs("normalized", loadId);
  const staging = `${dataset}${STAGING_DATASET_SUFFIX}`;
  const now = options.now ?? (() => new Date());
  const hook = options.hook ?? (() => {});
  const dropped = new Set(pkgState.dropped_tables ?? []);
  const told = new Set<string>();
  const onJob = options.onJob && ((job: { table: string; path: string }) => {
    if (told.has(job.path)) return;
    told.add(job.path);
    try {
      options.onJob?.({ ...job, done: told.size, total: jobPaths.length });
    } catch {
      // progress only: it never fails a load
    }
  });
  const precopied = client.kind === "postgres" && (options.workers ?? 1) > 1
    ? await precopyNew(client, {
      schema,
      dataset,
      loadId,
      jobPaths,
      pkgState,
      dropped,
      options,
      onJob,
    })
    : undefined;
  // after a failed side COPY (warned of) the transaction COPYs its files again: counted anew
  if (precopied) await hook("precopied");
  else told.clear();

  const load = client.transaction(async (tx): Promise<LoadPackageInfo> => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [dataset]);
    // one catalog read for the whole load; DDL is planned against it and sent as one batch
    const known = await DestinationTables.read(tx, [dataset, staging]);
    if (await loadedAlready(tx, known, dataset, loadId)) {
      // (a second load of the package, racing this one, may have set tables aside)
      if (client.kind === "postgres") await tx.exec(dropPrecopySql(dataset, loadId));
      return {
        loadId,
        status: "already_loaded",
        jobs: 0,
        migration: { newTables: [], newColumns: {} },
        tables: [],
        precopied: [],
        schemaVersionHash: schema.version_hash,
      };
    }
    const ddl: string[] = [];
    // --refresh: drop or empty tables first, in this same transaction (dlt's package state keys)
    for (const t of pkgState.dropped_tables ?? []) {
      for (const ds of [dataset, staging]) {
        ddl.push(`DROP TABLE IF EXISTS ${qualified(ds, t)}`);
        known.drop(ds, t);
      }
    }
    for (const t of pkgState.truncated_tables ?? []) {
      if (known.has(dataset, t)) ddl.push(`DELETE FROM ${qualified(dataset, t)}`);
    }
    const allTables = Object.keys(schema.tables).filter((t) => hasData(schema, t));
    // the tables COPYed over parallel connections come in as they are (see precopy.ts)
    const moved = precopied
      ? await movePrecopied(tx, { ...precopied, dataset, schema, known })
      : new Set<string>();
    // new tables get their UNIQUE constraints once their rows are in (see `deferUnique`)
    const deferredUnique = new Map<string, string>();
    const migration = planMigration(ddl, known, dataset, {
      schema,
      tables: allTables,
      deferUnique: deferredUnique,
    });
    if (moved.size) {
      const made = new Set(migration.newTables);
      migration.newTables = allTables.filter((t) => moved.has(t) || made.has(t));
    }
    const addUnique = async (tables: Iterable<string>) => {
      const stmts: string[] = [];
      for (const t of tables) {
        const stmt = deferredUnique.get(t);
        if (stmt) stmts.push(stmt);
        deferredUnique.delete(t);
      }
      if (stmts.length) await tx.exec(stmts.join(";\n"));
    };
    const created = new Set(migration.newTables);

    const plans = chainPlans(schema, jobPaths, pkgState, created);
    // staging tables: created or migrated, and emptied (those that held an earlier package);
    // those of key-hash merges are made anew without UNIQUE (an older version made them with)
    const keyHashed = (p: (typeof plans)[number]) => KEY_HASH_STRATEGIES.has(p.mergeStrategy ?? "");
    const stagingTables = plans.filter((p) => p.staged && !keyHashed(p)).flatMap((p) => p.chain);
    const keyHashTables = plans.filter((p) => p.staged && keyHashed(p)).flatMap((p) => p.chain);
    const staged = stagingTables.length + keyHashTables.length > 0;
    if (staged) {
      // the staging dataset keeps its own `_dlt_version`, as dlt's does
      planMigration(ddl, known, staging, { schema, tables: [VERSION_TABLE] });
      for (const t of keyHashTables) {
        if (known.has(staging, t)) ddl.push(`DROP TABLE ${qualified(staging, t)}`);
        known.drop(staging, t);
      }
      planMigration(ddl, known, staging, { schema, tables: keyHashTables, unique: false });
      const stale = stagingTables.filter((t) => known.has(staging, t));
      planMigration(ddl, known, staging, { schema, tables: stagingTables });
      if (stale.length) {
        ddl.push(`TRUNCATE TABLE ${stale.map((t) => qualified(staging, t)).join(", ")}`);
      }
    }
    // dlt's truncate-and-insert, but with DELETE inside the load transaction: readers keep
    // seeing the old rows until it commits, never an empty or half-filled table
    for (const plan of plans) {
      if (plan.disposition !== "replace" || plan.staged) continue;
      for (const t of plan.chain) {
        if (known.has(dataset, t) && !created.has(t)) {
          ddl.push(`DELETE FROM ${qualified(dataset, t)}`);
        }
      }
    }
    await tx.exec(ddl.join(";\n"));
    const at = now();
    await writeVersion(tx, dataset, schema, at);
    if (staged) await writeVersion(tx, staging, schema, at);
    await hook("migrated");

    const loadedTables = new Set<string>();
    let jobCount = 0;
    let uniq = 0;
    for (const plan of plans) {
      const { root, paths, chain, nested } = plan;
      const inPlace = chain.length > 0 && chain.every((t) => moved.has(t));
      for (const p of paths) {
        if (inPlace) {
          loadedTables.add(jobTable(p));
          jobCount++;
          onJob?.({ table: jobTable(p), path: p }); // (told when set aside)
          continue;
        }
        const job = await openCopyJob(p);
        await copyJob(tx, plan.staged ? staging : dataset, job);
        loadedTables.add(job.table);
        jobCount++;
        onJob?.({ table: job.table, path: p });
      }
      await hook("copied");
      await addUnique(chain);
      if (plan.disposition === "merge" && plan.fresh) {
        const stmts = freshMergeSql(schema, { dataset, root, nested });
        if (stmts.length) await tx.exec(stmts.join(";\n"));
        await hook("merged");
      } else if (plan.disposition === "merge") {
        if (hasData(schema, root)) {
          const strategy = plan.mergeStrategy;
          const stmts = KEY_HASH_STRATEGIES.has(strategy ?? "")
            ? upsertSql(schema, {
              dataset,
              staging,
              root,
              nested,
              insertOnly: strategy === "insert-only",
            })
            : deleteInsertSql(schema, {
              dataset,
              staging,
              root,
              nested,
              uniq: `${root}_${uniq++}`.slice(0, 40),
            });
          await tx.exec(stmts.join(";\n"));
        }
        await hook("merged");
      } else if (plan.staged) {
        const stmts = stagedReplaceSql(chain, {
          dataset,
          staging,
          schema,
          replaceStrategy: plan.replaceStrategy,
        });
        if (stmts.length) await tx.exec(stmts.join(";\n"));
      }
    }
    await addUnique([...deferredUnique.keys()]);
    // what this load, an interrupted earlier load of it, or a load killed an hour ago or more
    // (its working dir gone, it never comes back) set aside over parallel connections
    if (client.kind === "postgres") {
      const stale = await stalePrecopies(tx, dataset, now().getTime() - STALE_PRECOPY_MS);
      await tx.exec([loadId, ...stale].map((id) => dropPrecopySql(dataset, id)).join(";\n"));
    }
    await tx.query(
      `INSERT INTO ${qualified(dataset, LOADS_TABLE)} ` +
        `(load_id, schema_name, status, inserted_at, schema_version_hash) VALUES ($1, $2, 0, $3, $4)`,
      [loadId, schema.name, now().toISOString(), schema.version_hash],
    );
    await hook("completed");
    return {
      loadId,
      status: "loaded",
      jobs: jobCount,
      migration,
      tables: [...loadedTables].sort(),
      precopied: [...moved],
      schemaVersionHash: schema.version_hash,
    };
  });
  const info = await load.catch(async (e) => {
    if (precopied) await client.exec(dropPrecopySql(dataset, loadId)).catch(() => {});
    throw e;
  });
  await hook("committed");
  await Deno.writeTextFile(
    join(dir, "package_completed.json"),
    JSON.stringify({ status: "loaded", load_id: loadId, completed_at: now().toISOString() }),
  );
  await storage.move(loadId, "normalized", "loaded");
  return info;
}

/** Inserts a `_dlt_version` row unless one with the schema's hash exists. */
async function writeVersion(
  tx: SqlClient,
  dataset: string,
  schema: StoredSchema,
  at: Date,
): Promise<void> {
  const exists = await tx.query(
    `SELECT 1 FROM ${qualified(dataset, VERSION_TABLE)} WHERE version_hash = $1 LIMIT 1`,
    [schema.version_hash],
  );
  if (exists.length) return;
  await tx.query(
    `INSERT INTO ${qualified(dataset, VERSION_TABLE)} ` +
      `(version, engine_version, inserted_at, schema_name, version_hash, schema) ` +
      `VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      schema.version,
      SCHEMA_ENGINE_VERSION,
      at.toISOString(),
      schema.name,
      schema.version_hash,
      JSON.stringify(schema),
    ],
  );
}
