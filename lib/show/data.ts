/**
 * The data behind `gitlab-pg show`: tables with row counts, columns and parents, paged and
 * filtered sample rows, the load history, schema versions and state — read-only queries on
 * one open destination. Table and column names are checked against the catalog of the
 * database before they reach SQL.
 *
 * @module
 */

import { UsageError } from "../common/errors.ts";
import { qualified, quoteIdent, type SqlClient } from "../load/sql_client.ts";
import { fromStoredJson } from "../schema/mod.ts";
import { LOADS_TABLE, PATH_SEPARATOR, STATE_TABLE, VERSION_TABLE } from "../schema/names.ts";
import type { StoredSchema } from "../schema/types.ts";
import { restoreSchemaJson, restoreState } from "../pipeline/state.ts";

/** One column of a table. */
export interface ShowColumn {
  name: string;
  type: string;
}

/** One table of the dataset. */
export interface ShowTable {
  name: string;
  /** Parent table (child tables of lists), from the stored schema, else from the name. */
  parent: string | null;
  rows: number;
  columns: ShowColumn[];
  resource: string | null;
  write_disposition: string | null;
  /** A `_dlt_*` system table. */
  system: boolean;
}

/** A page of sample rows. */
export interface ShowRows {
  table: string;
  columns: string[];
  rows: unknown[][];
  /** Rows matching the filter. */
  total: number;
  offset: number;
  limit: number;
}

/** Options of {@linkcode ShowData.rows}. */
export interface RowsOptions {
  /** @default {0} */
  offset?: number;
  /** At most 500. @default {50} */
  limit?: number;
  /** Case-insensitive substring to find in the row (or in `column`). @default {""} */
  filter?: string;
  /** Search only this column. @default {every column} */
  column?: string;
}

/** Plain JSON for a value Postgres returned (bigints as strings, dates as ISO). */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    return `\\x${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  return value;
}

/**
 * Read-only views of one dataset.
 *
 * @example
 * ```ts
 * const data = new ShowData(client, { dataset: "gitlab_data", pipelineName: "gitlab_pipeline" });
 * const tables = await data.tables();
 * ```
 */
export class ShowData {
  readonly client: SqlClient;
  readonly dataset: string;
  readonly pipelineName: string;
  /** A page of rows that takes longer is cancelled (a Postgres server; PGlite has no timer). */
  readonly statementTimeoutMs: number;

  constructor(
    client: SqlClient,
    options: { dataset: string; pipelineName: string; statementTimeoutMs?: number },
  ) {
    this.client = client;
    this.dataset = options.dataset;
    this.pipelineName = options.pipelineName;
    this.statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  }

  async #columns(): Promise<Map<string, ShowColumn[]>> {
    const rows = await this.client.query<{ t: string; c: string; type: string }>(
      `SELECT c.table_name AS t, c.column_name AS c, c.data_type AS type
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
       ORDER BY c.table_name, c.ordinal_position`,
      [this.dataset],
    );
    const out = new Map<string, ShowColumn[]>();
    for (const r of rows) {
      const list = out.get(r.t) ?? [];
      list.push({ name: r.c, type: r.type });
      out.set(r.t, list);
    }
    return out;
  }

  /** The newest stored schemas, by name. */
  async schemas(): Promise<StoredSchema[]> {
    const cols = await this.#columns();
    if (!cols.has(VERSION_TABLE)) return [];
    const names = await this.client.query<{ n: string }>(
      `SELECT DISTINCT schema_name AS n FROM ${qualified(this.dataset, VERSION_TABLE)}`,
    );
    const out: StoredSchema[] = [];
    for (const { n } of names) {
      const json = await restoreSchemaJson(this.client, { dataset: this.dataset, schemaName: n });
      if (json) out.push(fromStoredJson(json));
    }
    return out;
  }

  /** Every table with its row count, columns and parent; root tables first, by name. */
  async tables(): Promise<ShowTable[]> {
    const cols = await this.#columns();
    const names = [...cols.keys()].sort();
    const schemaTables = new Map<string, Record<string, unknown>>();
    for (const s of await this.schemas()) {
      for (const [name, t] of Object.entries(s.tables)) schemaTables.set(name, t);
    }
    const counts = new Map<string, number>();
    if (names.length) {
      const rows = await this.client.query<{ t: string; n: string | number }>(
        names.map((n, i) =>
          `SELECT ${i} AS i, $${i + 1}::text AS t, count(*)::text AS n FROM ${
            qualified(this.dataset, n)
          }`
        ).join(" UNION ALL "),
        names,
      );
      for (const r of rows) counts.set(r.t, Number(r.n));
    }
    const parentByName = (name: string): string | null => {
      const idx = name.lastIndexOf(PATH_SEPARATOR);
      for (let i = idx; i > 0; i = name.lastIndexOf(PATH_SEPARATOR, i - 1)) {
        const p = name.slice(0, i);
        if (cols.has(p)) return p;
      }
      return null;
    };
    return names.map((name) => {
      const st = schemaTables.get(name);
      const parent = typeof st?.parent === "string" ? st.parent : st ? null : parentByName(name);
      return {
        name,
        parent: parent && cols.has(parent) ? parent : null,
        rows: counts.get(name) ?? 0,
        columns: cols.get(name) ?? [],
        resource: typeof st?.resource === "string" ? st.resource : null,
        write_disposition: typeof st?.write_disposition === "string" ? st.write_disposition : null,
        system: name.startsWith("_dlt_"),
      };
    });
  }

  /** A page of rows of `table`, optionally filtered. */
  async rows(table: string, options: RowsOptions = {}): Promise<ShowRows> {
    const cols = (await this.#columns()).get(table);
    if (!cols) throw new UsageError(`Cannot show table "${table}": it is not in "${this.dataset}"`);
    const names = cols.map((c) => c.name);
    const offset = Math.max(0, Math.floor(options.offset ?? 0));
    const limit = Math.min(500, Math.max(1, Math.floor(options.limit ?? 50)));
    const params: unknown[] = [];
    let where = "";
    if (options.filter) {
      if (options.column && !names.includes(options.column)) {
        throw new UsageError(
          `Cannot filter on column "${options.column}": it is not in "${table}"`,
        );
      }
      params.push(`%${options.filter.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      // any column: the values themselves, each as text (not the row literal, whose quoting
      // and punctuation would match, nor a bare alias a column of the same name would shadow)
      const targets = options.column ? [options.column] : names;
      where = ` WHERE ${targets.map((n) => `${quoteIdent(n)}::text ILIKE $1`).join(" OR ")}`;
    }
    const from = `${qualified(this.dataset, table)}${where}`;
    const order = names.includes("_dlt_id")
      ? ["_dlt_load_id", "_dlt_list_idx", "_dlt_id"].filter((c) => names.includes(c))
      : names.includes("load_id")
      ? ["load_id"]
      : [names[0]];
    // a filter over a huge table must not hold the database (nor the page) for ever
    const { rows, total } = await this.client.transaction(async (tx) => {
      await tx.exec(`SET LOCAL statement_timeout = ${Math.max(1, this.statementTimeoutMs | 0)}`);
      const rows = await tx.query<Record<string, unknown>>(
        `SELECT ${names.map(quoteIdent).join(", ")} FROM ${from} ORDER BY ${
          order.map(quoteIdent).join(", ")
        } LIMIT ${limit} OFFSET ${offset}`,
        params,
      );
      const total = await tx.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${from}`,
        params,
      );
      return { rows, total };
    });
    return {
      table,
      columns: names,
      rows: rows.map((r) => names.map((n) => plain(r[n]))),
      total: Number(total[0].n),
      offset,
      limit,
    };
  }

  /** `_dlt_loads`, newest first. */
  async loads(): Promise<Record<string, unknown>[]> {
    if (!(await this.#columns()).has(LOADS_TABLE)) return [];
    const rows = await this.client.query<Record<string, unknown>>(
      `SELECT load_id, schema_name, status, inserted_at, schema_version_hash
       FROM ${qualified(this.dataset, LOADS_TABLE)} ORDER BY load_id DESC LIMIT 500`,
    );
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
  }

  /** `_dlt_version` rows (without the schema text), newest first. */
  async versions(): Promise<Record<string, unknown>[]> {
    if (!(await this.#columns()).has(VERSION_TABLE)) return [];
    const rows = await this.client.query<Record<string, unknown>>(
      `SELECT version, engine_version, inserted_at, schema_name, version_hash
       FROM ${qualified(this.dataset, VERSION_TABLE)} ORDER BY inserted_at DESC, version DESC`,
    );
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
  }

  /** The newest state of the pipeline and the `_dlt_pipeline_state` history. */
  async state(): Promise<{ state: unknown; history: Record<string, unknown>[] }> {
    if (!(await this.#columns()).has(STATE_TABLE)) return { state: null, history: [] };
    const state = await restoreState(this.client, {
      dataset: this.dataset,
      pipelineName: this.pipelineName,
    });
    const rows = await this.client.query<Record<string, unknown>>(
      `SELECT version, pipeline_name, created_at, _dlt_load_id AS load_id
       FROM ${qualified(this.dataset, STATE_TABLE)} ORDER BY created_at DESC LIMIT 200`,
    );
    return {
      state: state ?? null,
      history: rows.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)]))
      ),
    };
  }
}
