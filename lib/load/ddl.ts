/**
 * Schema migration as dlt does it for Postgres: new tables get `CREATE TABLE`, new columns
 * `ALTER TABLE … ADD COLUMN`; nothing is ever dropped or retyped.
 *
 * @module
 */

import type { Column, StoredSchema, Table } from "../schema/types.ts";
import { qualified, quoteIdent, quoteLiteral, type SqlClient } from "./sql_client.ts";

/** The Postgres type of a dlt column (dlt's `PostgresTypeMapper`). */
export function postgresType(column: Column): string {
  const p = column.precision;
  switch (column.data_type) {
    case "text":
      return p ? `varchar(${p})` : "varchar";
    case "bigint":
      if (p && p <= 16) return "smallint";
      if (p && p <= 32) return "integer";
      return "bigint";
    case "double":
      return "double precision";
    case "bool":
      return "boolean";
    case "timestamp": {
      const tz = column.timezone === false ? "without" : "with";
      return p !== undefined ? `timestamp (${p}) ${tz} time zone` : `timestamp ${tz} time zone`;
    }
    case "date":
      return "date";
    case "time":
      return "time without time zone";
    case "binary":
      return "bytea";
    case "json":
      return "jsonb";
    case "decimal":
      return `numeric(${p ?? 38},${column.scale ?? 9})`;
    case "wei":
      return "numeric(156,78)";
    default:
      return "varchar";
  }
}

function columnDef(column: Column, creating: boolean, unique = true): string {
  let def = `${quoteIdent(column.name)} ${postgresType(column)}`;
  if (column.unique && unique) def += " UNIQUE";
  if (column.nullable === false && creating) def += " NOT NULL";
  return def;
}

/** Columns that have a data type (columns without one have seen no data yet). */
export function completeColumns(table: Table): Column[] {
  return Object.values(table.columns).filter((c) => c.data_type !== undefined);
}

/**
 * The tables and columns of some datasets as the destination has them, read once per load and
 * kept current while DDL is planned, so a load asks the catalog one question instead of one
 * per table (each `information_schema` query costs milliseconds, more over a WAN).
 */
export class DestinationTables {
  readonly #tables = new Map<string, Set<string>>();

  /** Reads the tables (and views) of `datasets` with their columns from `pg_catalog`. */
  static async read(client: SqlClient, datasets: string[]): Promise<DestinationTables> {
    const out = new DestinationTables();
    if (datasets.length === 0) return out;
    const rows = await client.query<{ ds: string; t: string; c: string }>(
      "SELECT n.nspname AS ds, c.relname AS t, a.attname AS c FROM pg_catalog.pg_class c " +
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped " +
        `WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname IN (${
          datasets.map((_, i) => `$${i + 1}`).join(", ")
        })`,
      datasets,
    );
    for (const r of rows) out.add(r.ds, r.t, [r.c]);
    return out;
  }

  /** Whether `dataset.table` exists. */
  has(dataset: string, table: string): boolean {
    return this.#tables.has(`${dataset}\u0000${table}`);
  }

  /** The columns of `dataset.table`, undefined when it does not exist. */
  columns(dataset: string, table: string): ReadonlySet<string> | undefined {
    return this.#tables.get(`${dataset}\u0000${table}`);
  }

  /** Records columns added to (or a table created with them in) `dataset.table`. */
  add(dataset: string, table: string, columns: Iterable<string>): void {
    const key = `${dataset}\u0000${table}`;
    let set = this.#tables.get(key);
    if (!set) this.#tables.set(key, set = new Set());
    for (const c of columns) set.add(c);
  }

  /** Records that `dataset.table` was dropped. */
  drop(dataset: string, table: string): void {
    this.#tables.delete(`${dataset}\u0000${table}`);
  }
}

/** What a migration changed. */
export interface MigrationInfo {
  newTables: string[];
  newColumns: Record<string, string[]>;
}

/**
 * Plans bringing `tables` of `schema` into `dataset`, as dlt does for Postgres: `CREATE SCHEMA
 * IF NOT EXISTS`, `CREATE TABLE` for missing tables, one `ALTER TABLE … ADD COLUMN …` per table
 * with missing columns; nothing is ever dropped or retyped. The statements are appended to
 * `out` (to be sent as one batch) and `known` is updated as if they had run.
 */
export function planMigration(
  out: string[],
  known: DestinationTables,
  dataset: string,
  options: {
    schema: StoredSchema;
    tables: string[];
    /** `UNIQUE` on `unique` columns (off for staging that may hold a key twice). @default {true} */
    unique?: boolean;
    /**
     * When given, a table created here gets its `UNIQUE` constraints later: one `ALTER TABLE …
     * ADD UNIQUE (…)` per table is set here, to run once its rows are in (an index built over
     * the rows at once costs a fraction of one kept up row by row; the constraint and its name,
     * `<table>_<column>_key`, are the same).
     */
    deferUnique?: Map<string, string>;
  },
): MigrationInfo {
  out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(dataset)}`);
  const info: MigrationInfo = { newTables: [], newColumns: {} };
  for (const name of options.tables) {
    const table = options.schema.tables[name];
    if (!table) continue;
    const cols = completeColumns(table);
    if (cols.length === 0) continue;
    const have = known.columns(dataset, name);
    if (!have) {
      const unique = options.unique ?? true;
      const later = unique && options.deferUnique
        ? cols.filter((c) => c.unique).map((c) => `ADD UNIQUE (${quoteIdent(c.name)})`)
        : [];
      if (later.length) {
        options.deferUnique!.set(
          name,
          `ALTER TABLE ${qualified(dataset, name)} ${later.join(", ")}`,
        );
      }
      const defs = cols.map((c) => columnDef(c, true, unique && !later.length)).join(",\n  ");
      out.push(`CREATE TABLE ${qualified(dataset, name)} (\n  ${defs}\n)`);
      if (table.description) {
        out.push(
          `COMMENT ON TABLE ${qualified(dataset, name)} IS ${quoteLiteral(table.description)}`,
        );
      }
      known.add(dataset, name, cols.map((c) => c.name));
      info.newTables.push(name);
      continue;
    }
    const missing = cols.filter((c) => !have.has(c.name));
    if (missing.length === 0) continue;
    const adds = missing.map((c) => `ADD COLUMN ${columnDef(c, false, options.unique ?? true)}`)
      .join(", ");
    out.push(`ALTER TABLE ${qualified(dataset, name)}\n${adds}`);
    known.add(dataset, name, missing.map((c) => c.name));
    info.newColumns[name] = missing.map((c) => c.name);
  }
  return info;
}
