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

function columnDef(column: Column, creating: boolean): string {
  let def = `${quoteIdent(column.name)} ${postgresType(column)}`;
  if (column.unique) def += " UNIQUE";
  if (column.nullable === false && creating) def += " NOT NULL";
  return def;
}

/** Columns that have a data type (columns without one have seen no data yet). */
export function completeColumns(table: Table): Column[] {
  return Object.values(table.columns).filter((c) => c.data_type !== undefined);
}

/** Existing columns per table of a dataset, from `information_schema.columns`. */
export async function existingColumns(
  client: SqlClient,
  dataset: string,
): Promise<Map<string, Set<string>>> {
  const rows = await client.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1",
    [dataset],
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    let set = out.get(r.table_name);
    if (!set) out.set(r.table_name, set = new Set());
    set.add(r.column_name);
  }
  return out;
}

/** What a migration changed. */
export interface MigrationInfo {
  newTables: string[];
  newColumns: Record<string, string[]>;
}

/**
 * Creates the dataset and brings `tables` of `schema` into it: `CREATE TABLE` for missing tables,
 * one `ALTER TABLE … ADD COLUMN …` per table with missing columns.
 */
export async function migrate(
  client: SqlClient,
  dataset: string,
  options: { schema: StoredSchema; tables: string[] },
): Promise<MigrationInfo> {
  await client.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(dataset)}`);
  const existing = await existingColumns(client, dataset);
  const info: MigrationInfo = { newTables: [], newColumns: {} };
  for (const name of options.tables) {
    const table = options.schema.tables[name];
    if (!table) continue;
    const cols = completeColumns(table);
    if (cols.length === 0) continue;
    const have = existing.get(name);
    if (!have) {
      const defs = cols.map((c) => columnDef(c, true)).join(",\n  ");
      await client.exec(`CREATE TABLE ${qualified(dataset, name)} (\n  ${defs}\n)`);
      if (table.description) {
        await client.exec(
          `COMMENT ON TABLE ${qualified(dataset, name)} IS ${quoteLiteral(table.description)}`,
        );
      }
      info.newTables.push(name);
      continue;
    }
    const missing = cols.filter((c) => !have.has(c.name));
    if (missing.length === 0) continue;
    const adds = missing.map((c) => `ADD COLUMN ${columnDef(c, false)}`).join(", ");
    await client.exec(`ALTER TABLE ${qualified(dataset, name)}\n${adds}`);
    info.newColumns[name] = missing.map((c) => c.name);
  }
  return info;
}
