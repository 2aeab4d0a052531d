/**
 * The destination interface the loader talks to: a Postgres server or embedded PGlite.
 *
 * @module
 */

/** A connection to a Postgres-speaking destination. */
export interface SqlClient {
  /** `postgres` or `pglite`. */
  readonly kind: "postgres" | "pglite";
  /** Where data goes, with secrets hidden (dlt's displayable credentials). */
  readonly location: string;
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  /**
   * Streams `data` into a `COPY … FROM STDIN` statement (text format).
   * @param copySql e.g. `COPY "ds"."t" ("a","b") FROM STDIN`
   */
  copyFrom(copySql: string, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `"dataset"."table"`. */
export function qualified(dataset: string, table: string): string {
  return `${quoteIdent(dataset)}.${quoteIdent(table)}`;
}
