/**
 * The dlt schema model: a new schema with dlt's system tables, settings and normalizers, the
 * pipeline state table, and resource hints applied the way dlt's extract stage applies them.
 * Key order of every dict follows dlt, because it is kept in the stored JSON, the export YAML
 * and (for columns) the version hash.
 *
 * @module
 */

import {
  C_DLT_ID,
  C_DLT_LIST_IDX,
  C_DLT_LOAD_ID,
  C_DLT_PARENT_ID,
  C_DLT_ROOT_ID,
  JSON_NORMALIZER_MODULE,
  LOADS_TABLE,
  SCHEMA_ENGINE_VERSION,
  STATE_TABLE,
  VERSION_TABLE,
} from "./names.ts";
import { isMapping } from "../common/json.ts";
import { normalizePath, normalizeTablesPath } from "./naming.ts";
import type { Column, DataType, StoredSchema, Table } from "./types.ts";
import { versionHash } from "./hash.ts";
import { partialContract } from "./contract.ts";
import { ConfigError } from "../common/errors.ts";

/** Name of the snake_case naming convention as written in `normalizers.names`. */
export const NAMING_CONVENTION = "snake_case";

/** The merge strategy dlt uses when none is given. */
export const DEFAULT_MERGE_STRATEGY = "delete-insert";

/** Write dispositions of root tables. */
export type WriteDisposition = "skip" | "append" | "replace" | "merge";

/** Options of {@linkcode newTable}. */
export interface NewTableOptions {
  /** Parent table: makes the table nested (no write disposition, no resource). @default {undefined} */
  parent?: string;
  /** Write disposition of a root table. @default {"append"} */
  writeDisposition?: WriteDisposition;
  /** Columns in order. @default {[]} */
  columns?: Column[];
  /** Resource name of a root table. @default {the table name} */
  resource?: string;
  /** `file_format` hint. @default {undefined} */
  fileFormat?: string;
}

/**
 * Why a schema file read back (`schema.json`, `<name>.schema.json`) holds no schema, or
 * undefined when it does (the check of `readJsonIfExists`).
 */
export function storedSchemaProblem(schema: StoredSchema): string | undefined {
  return typeof schema.name !== "string" || !isMapping(schema.tables)
    ? "it holds no schema (a name and tables)"
    : undefined;
}

/**
 * A new table dict with dlt's key order (`utils.new_table`): name, columns, write_disposition,
 * file_format, parent or resource.
 *
 * @example
 * ```ts
 * newTable("issues__labels", { parent: "issues" });
 * ```
 */
export function newTable(name: string, options: NewTableOptions = {}): Table {
  const table: Table = {
    name,
    columns: Object.fromEntries((options.columns ?? []).map((c) => [c.name, c])),
  };
  if (options.writeDisposition) table.write_disposition = options.writeDisposition;
  if (options.resource) table.resource = options.resource;
  if (options.fileFormat) table.file_format = options.fileFormat;
  if (options.parent) {
    table.parent = options.parent;
  } else {
    if (!options.writeDisposition) table.write_disposition = "append";
    if (!options.resource) table.resource = name;
  }
  return table;
}

/**
 * The `_dlt_version` table (write_disposition skip).
 *
 * @example
 * ```ts
 * Object.keys(versionTable().columns); // ["version", "engine_version", ...]
 * ```
 */
export function versionTable(): Table {
  const table = newTable(VERSION_TABLE, {
    columns: [
      { name: "version", data_type: "bigint", nullable: false },
      { name: "engine_version", data_type: "bigint", nullable: false },
      { name: "inserted_at", data_type: "timestamp", nullable: false },
      { name: "schema_name", data_type: "text", nullable: false },
      { name: "version_hash", data_type: "text", nullable: false },
      { name: "schema", data_type: "text", nullable: false },
    ],
  });
  table.write_disposition = "skip";
  table.description = "Created by DLT. Tracks schema updates";
  return table;
}

/**
 * The `_dlt_loads` table (write_disposition skip, `load_id` with precision 64).
 *
 * @example
 * ```ts
 * loadsTable().columns.load_id.precision; // 64
 * ```
 */
export function loadsTable(): Table {
  const table = newTable(LOADS_TABLE, {
    columns: [
      { name: "load_id", data_type: "text", nullable: false, precision: 64 },
      { name: "schema_name", data_type: "text", nullable: true },
      { name: "status", data_type: "bigint", nullable: false },
      { name: "inserted_at", data_type: "timestamp", nullable: false },
      { name: "schema_version_hash", data_type: "text", nullable: true },
    ],
  });
  table.write_disposition = "skip";
  table.description = "Created by DLT. Tracks completed loads";
  return table;
}

/**
 * The `_dlt_load_id` column as dlt predefines it (`dlt_load_id_column`).
 *
 * @example
 * ```ts
 * dltLoadIdColumn(); // { name: "_dlt_load_id", data_type: "text", nullable: false, precision: 64 }
 * ```
 */
export function dltLoadIdColumn(): Column {
  return { name: C_DLT_LOAD_ID, data_type: "text", nullable: false, precision: 64 };
}

/**
 * The `_dlt_pipeline_state` table: predefined columns, write_disposition append,
 * `file_format: preferred`. The normalizer adds `_dlt_id` when the first row arrives. No
 * `description`: dlt's `pipeline_state_table()` sets one, but its `state_resource()` passes on
 * only the columns, write disposition and file format, so dlt's schema (and its version hash)
 * has none.
 *
 * @example
 * ```ts
 * schema.tables["_dlt_pipeline_state"] ??= pipelineStateTable();
 * ```
 */
export function pipelineStateTable(): Table {
  return newTable(STATE_TABLE, {
    writeDisposition: "append",
    fileFormat: "preferred",
    columns: [
      { name: "version", data_type: "bigint", nullable: false },
      { name: "engine_version", data_type: "bigint", nullable: false },
      { name: "pipeline_name", data_type: "text", nullable: false },
      { name: "state", data_type: "text", nullable: false },
      { name: "created_at", data_type: "timestamp", nullable: false },
      { name: "version_hash", data_type: "text", nullable: true },
      dltLoadIdColumn(),
    ],
  });
}

/**
 * A new schema as dlt creates it: system tables `_dlt_version` and `_dlt_loads`, ISO timestamp
 * detection, the relational normalizer's default hints, snake_case naming; version 1 with the
 * hash of that content.
 *
 * @example
 * ```ts
 * const schema = newSchema("gitlab");
 * schema.version; // 1
 * ```
 */
export function newSchema(name: string): StoredSchema {
  const schema: StoredSchema = {
    version: 1,
    version_hash: "",
    engine_version: SCHEMA_ENGINE_VERSION,
    name,
    tables: { [VERSION_TABLE]: versionTable(), [LOADS_TABLE]: loadsTable() },
    settings: {
      detections: ["iso_timestamp"],
      default_hints: {
        not_null: [C_DLT_ID, C_DLT_ROOT_ID, C_DLT_PARENT_ID, C_DLT_LIST_IDX, C_DLT_LOAD_ID],
        parent_key: [C_DLT_PARENT_ID],
        root_key: [C_DLT_ROOT_ID],
        unique: [C_DLT_ID],
        row_key: [C_DLT_ID],
      },
    },
    normalizers: { names: NAMING_CONVENTION, json: { module: JSON_NORMALIZER_MODULE } },
    previous_hashes: [],
  };
  schema.version_hash = versionHash(schema);
  return schema;
}

/** Resource hints for one root table, as the pipeline declares them. */
export interface TableHints {
  /** Table name (normalized here). */
  table: string;
  /** Resource name (kept as is). */
  resource: string;
  /** Write disposition. */
  write_disposition: WriteDisposition;
  /** Merge strategy (`delete-insert`, `upsert`, `insert-only`, `scd2`); only for merge. */
  merge_strategy?: string;
  /**
   * Replace strategy (`truncate-and-insert`, `insert-from-staging`, `staging-optimized`); only
   * for replace. Non-default strategies are kept as `x-replace-strategy`.
   */
  replace_strategy?: string;
  /** Primary key columns. */
  primary_key: string[];
  /** Merge key columns. */
  merge_key: string[];
  /** Column hints by column name. */
  columns: Record<string, Partial<Column>>;
  /** Resource level max table nesting (`x-normalizer.max_nesting`). */
  max_nesting?: number;
  /** Resource level schema contract (a mode or `{tables, columns, data_type}`). */
  schema_contract?: unknown;
  /**
   * The incremental cursor's column, when its `cursor_path` is a single field (dlt's
   * `get_cursor_column_name`): hinted `incremental: true`. @default {none}
   */
  incremental_column?: string;
}

/**
 * The column of a cursor path that names a single field (`updated_at`, `$.updated_at`,
 * `['updated at']`), as dlt's `extract_simple_field_name`; undefined for a nested or
 * wildcard path.
 */
export function cursorColumnName(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const m = /^(?:\$\.)?([A-Za-z_][\w-]*)$/.exec(path) ?? /^\$?\[(['"])([^'"]+)\1\]$/.exec(path);
  return m ? m[m.length - 1] : undefined;
}

function mergeKeyHint(table: Table, hint: "primary_key" | "merge_key", keys: string[]): void {
  for (const key of keys.map(normalizePath)) {
    const existing = table.columns[key];
    if (existing) {
      const nullable = existing.nullable ?? false;
      existing[hint] = true;
      existing.nullable = nullable;
    } else {
      table.columns[key] = { name: key, nullable: false, [hint]: true };
    }
  }
}

/**
 * Applies a resource's hints to its root table, creating the table when missing. Idempotent:
 * applying the same hints twice leaves the schema unchanged. Columns from `columns` come first
 * (their hints merged into existing columns), then primary and merge key columns, created as
 * `{nullable: false, primary_key: true}` when unknown. Merge tables get the `_dlt_root_id`
 * propagation in `normalizers.json.config`, non-default strategies `x-merge-strategy`.
 *
 * @example
 * ```ts
 * applyTableHints(schema, {
 *   table: "issues", resource: "issues", write_disposition: "merge",
 *   primary_key: ["id"], merge_key: [], columns: {},
 * });
 * ```
 */
export function applyTableHints(schema: StoredSchema, hints: TableHints): Table {
  const name = normalizeTablesPath(hints.table);
  let table = schema.tables[name];
  if (!table) {
    table = newTable(name, { writeDisposition: hints.write_disposition, resource: hints.resource });
    schema.tables[name] = table;
  } else {
    table.write_disposition = hints.write_disposition;
    table.resource = hints.resource;
  }
  for (const [rawName, hint] of Object.entries(hints.columns ?? {})) {
    const col = normalizePath(rawName);
    const clean = Object.fromEntries(
      Object.entries(hint).filter(([k, v]) => v !== undefined && k !== "name"),
    );
    const existing = table.columns[col];
    if (existing?.data_type && clean.data_type && clean.data_type !== existing.data_type) {
      // as dlt's CannotCoerceColumnException: a loaded column is never retyped silently
      throw new ConfigError(
        `Cannot apply the column hints of resource "${hints.resource}": column "${name}.${col}" is ${existing.data_type} in the schema but the catalog says ${clean.data_type} (nothing is retyped: add a new column, or drop the table to recreate it)`,
      );
    }
    if (existing) Object.assign(existing, clean);
    else table.columns[col] = { ...clean, name: col } as Column;
  }
  mergeKeyHint(table, "primary_key", hints.primary_key ?? []);
  mergeKeyHint(table, "merge_key", hints.merge_key ?? []);
  const strategy = hints.write_disposition === "merge"
    ? (hints.merge_strategy ?? DEFAULT_MERGE_STRATEGY)
    : undefined;
  if (strategy && strategy !== DEFAULT_MERGE_STRATEGY) table["x-merge-strategy"] = strategy;
  else delete table["x-merge-strategy"];
  if (hints.incremental_column) {
    // dlt's _merge_incremental_column_hint, after the keys and the write disposition
    const col = normalizePath(hints.incremental_column);
    const existing = table.columns[col];
    if (existing) existing.incremental = true;
    else table.columns[col] = { name: col, incremental: true } as Column;
  }
  const replace = hints.write_disposition === "replace" ? hints.replace_strategy : undefined;
  if (replace && replace !== "truncate-and-insert") table["x-replace-strategy"] = replace;
  else delete table["x-replace-strategy"];
  if (hints.schema_contract !== undefined && hints.schema_contract !== null) {
    partialContract(hints.schema_contract, `resource "${hints.resource}"`);
    table.schema_contract = structuredClone(hints.schema_contract);
  }
  if (hints.max_nesting !== undefined) {
    table["x-normalizer"] = { ...(table["x-normalizer"] ?? {}), max_nesting: hints.max_nesting };
  }
  if (strategy && ["delete-insert", "upsert", "insert-only", "scd2"].includes(strategy)) {
    addRootKeyPropagation(schema, name);
  }
  return table;
}

/**
 * Sets the source's `max_table_nesting` in `normalizers.json.config.max_nesting` where dlt has
 * it: a new key goes first (dlt's source sets it before any table adds its root key
 * propagation), an existing one keeps its place.
 *
 * @example
 * ```ts
 * setMaxNesting(schema, 2);
 * Object.keys(schema.normalizers.json.config!); // ["max_nesting", "propagation"]
 * ```
 */
export function setMaxNesting(schema: StoredSchema, maxNesting: number): void {
  const json = schema.normalizers.json;
  const config = (json.config ?? {}) as Record<string, unknown>;
  json.config = Object.hasOwn(config, "max_nesting")
    ? { ...config, max_nesting: maxNesting }
    : { max_nesting: maxNesting, ...config };
}

/**
 * Adds `{_dlt_id: _dlt_root_id}` for `root` to `normalizers.json.config.propagation.tables`,
 * which makes the normalizer copy the root row's `_dlt_id` into `_dlt_root_id` of nested rows.
 *
 * @example
 * ```ts
 * addRootKeyPropagation(schema, "issues");
 * ```
 */
export function addRootKeyPropagation(schema: StoredSchema, root: string): void {
  const json = schema.normalizers.json;
  const config = (json.config ??= {}) as Record<string, unknown>;
  const propagation = (config.propagation ??= {}) as Record<string, unknown>;
  const tables = (propagation.tables ??= {}) as Record<string, Record<string, string>>;
  tables[root] = { ...(tables[root] ?? {}), [C_DLT_ID]: C_DLT_ROOT_ID };
}

/**
 * Whether a table is nested (has a `parent`).
 *
 * @example
 * ```ts
 * isNestedTable({ name: "a__b", columns: {}, parent: "a" }); // true
 * ```
 */
export function isNestedTable(table: Table): boolean {
  return Boolean(table.parent);
}

/**
 * The root table of `tableName`, following `parent` links.
 *
 * @example
 * ```ts
 * rootTableOf(schema, "issues__labels").name; // "issues"
 * ```
 */
export function rootTableOf(schema: StoredSchema, tableName: string): Table {
  let table = schema.tables[tableName];
  const seen = new Set<string>();
  while (table?.parent && !seen.has(table.name)) {
    seen.add(table.name);
    const parent = schema.tables[table.parent];
    if (!parent) break;
    table = parent;
  }
  return table;
}

/**
 * The merge strategy of a table's chain (`x-merge-strategy` of the root, default
 * `delete-insert`), or undefined when the root's write disposition is not merge.
 *
 * @example
 * ```ts
 * mergeStrategyOf(schema, "issues__labels"); // "delete-insert"
 * ```
 */
export function mergeStrategyOf(schema: StoredSchema, tableName: string): string | undefined {
  const root = rootTableOf(schema, tableName);
  if (root?.write_disposition !== "merge") return undefined;
  return (root["x-merge-strategy"] as string | undefined) ?? DEFAULT_MERGE_STRATEGY;
}

/**
 * Whether a column has a data type, i.e. can be created in the destination.
 *
 * @example
 * ```ts
 * isCompleteColumn({ name: "id", nullable: false }); // false
 * ```
 */
export function isCompleteColumn(column: Column): boolean {
  return Boolean(column.name) && Boolean(column.data_type);
}

/**
 * Complete columns of a table, in order.
 *
 * @example
 * ```ts
 * completeColumnNames(schema.tables.issues); // ["id", "title", ...]
 * ```
 */
export function completeColumnNames(table: Table): string[] {
  return Object.values(table.columns).filter(isCompleteColumn).map((c) => c.name);
}

/** A compiled simple regex: `re:<regex>` or an exact name. */
export function compileSimpleRegex(pattern: string): RegExp {
  if (pattern.startsWith("re:")) return new RegExp(pattern.slice(3), "u");
  return new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "u");
}

/** Data types allowed in `preferred_types` and columns. */
export const DATA_TYPES: readonly DataType[] = [
  "text",
  "double",
  "bool",
  "timestamp",
  "bigint",
  "binary",
  "json",
  "decimal",
  "wei",
  "date",
  "time",
];
