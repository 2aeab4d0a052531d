/**
 * The tables a load creates, loaded over several connections: before the load's transaction,
 * the job files of tables that do not exist in the dataset yet are COPYed in parallel, each
 * connection in a transaction of its own, into tables of a schema kept for this load
 * (`<dataset>_load_<load id>`), their `UNIQUE` constraints built once the rows are in; the
 * load's transaction then moves them into the dataset (`ALTER TABLE … SET SCHEMA`), so their
 * rows appear with the rest of the load when it commits, or not at all. A Postgres server
 * COPYs on one core per connection; the load's single transaction would leave the others idle.
 *
 * Anything that goes wrong here (no right to create a schema, a COPY the server refuses, a
 * lost connection) only drops the schema: the load's transaction then COPYs those files
 * itself, as it does without this step, and tells the error in its own words. So does it for
 * a chain it cannot move whole (a table of it made in the dataset meanwhile, or gone from the
 * schema, or a name it brings taken there). What a crash leaves in the schema is dropped by
 * the next load of the package (the same name), and by every load's transaction.
 *
 * @module
 */

import type { StoredSchema } from "../schema/types.ts";
import { completeColumns, DestinationTables, planMigration } from "./ddl.ts";
import { openCopyJob } from "./job_file.ts";
import { qualified, quoteIdent, type SqlClient } from "./sql_client.ts";

/** The schema of load `loadId`'s tables before they move into `dataset` (at most 63 bytes). */
export function precopySchema(dataset: string, loadId: string): string {
  const suffix = `_load_${loadId.replace(/[^0-9A-Za-z]/g, "_")}`;
  let head = dataset;
  while (new TextEncoder().encode(head + suffix).length > 63) head = head.slice(0, -1);
  return head + suffix;
}

/**
 * The load ids of `dataset` whose tables set aside are still there, of loads started before
 * `before` (ms since the epoch; a load id is its start in seconds).
 */
export async function stalePrecopies(
  client: SqlClient,
  dataset: string,
  before: number,
): Promise<string[]> {
  const rows = await client.query<{ s: string }>(
    "SELECT nspname AS s FROM pg_catalog.pg_namespace WHERE nspname LIKE '%\\_load\\_%'",
  );
  const out: string[] = [];
  for (const { s } of rows) {
    const m = /_load_(\d+)_(\d+)$/.exec(s);
    if (!m) continue;
    const loadId = `${m[1]}.${m[2]}`;
    if (precopySchema(dataset, loadId) === s && Number(m[1]) * 1000 < before) out.push(loadId);
  }
  return out;
}

/** `DROP SCHEMA IF EXISTS … CASCADE` of load `loadId`'s tables. */
export function dropPrecopySql(dataset: string, loadId: string): string {
  return `DROP SCHEMA IF EXISTS ${quoteIdent(precopySchema(dataset, loadId))} CASCADE`;
}

/**
 * Whether each of `tables` gets `UNIQUE` constraints named `<table>_<column>_key` whatever
 * the order they are added in: false when such a name is cut to Postgres' 63 bytes or is
 * another's too (Postgres then numbers the later one).
 */
export function uniqueNames(schema: StoredSchema, tables: string[]): Map<string, boolean> {
  const owners = new Map<string, Set<string>>();
  const byTable = new Map<string, string[]>();
  for (const t of tables) {
    const names = completeColumns(schema.tables[t]).filter((c) => c.unique).map((c) =>
      `${t}_${c.name}_key`
    );
    byTable.set(t, names);
    for (const n of names) owners.set(n, (owners.get(n) ?? new Set()).add(t));
  }
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  return new Map(
    [...byTable].map(([t, names]) => [
      t,
      names.every((n) => bytes(n) <= 63 && owners.get(n)!.size === 1),
    ]),
  );
}

/**
 * Splits `sizes` (table → bytes) over `n` connections, the biggest table first to the least
 * loaded connection; the tables of each in `order`.
 */
export function spreadTables(sizes: Map<string, number>, n: number, order: string[]): string[][] {
  const bins = Array.from({ length: Math.max(1, Math.min(n, sizes.size)) }, () => ({
    bytes: 0,
    tables: new Set<string>(),
  }));
  const biggest = [...sizes].sort((a, b) => b[1] - a[1]);
  for (const [table, bytes] of biggest) {
    const bin = bins.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    bin.bytes += bytes;
    bin.tables.add(table);
  }
  return bins.map((b) => order.filter((t) => b.tables.has(t))).filter((b) => b.length > 0);
}

/**
 * Loads the tables of `chains` (each a root table and its nested tables, none of them in the
 * dataset yet; `paths` their job files in load order) into {@linkcode precopySchema} over up
 * to `connections` transactions at once; returns that schema. Undefined when that failed (the
 * schema is then dropped, and the load's transaction copies the files itself).
 */
export async function precopy(
  client: SqlClient,
  options: {
    schema: StoredSchema;
    dataset: string;
    loadId: string;
    chains: string[][];
    paths: Map<string, string[]>;
    /** The bytes of each table's job files. */
    bytes: Map<string, number>;
    connections: number;
    onJob?: (job: { table: string; path: string }) => void;
    /** Told why the tables could not be set aside. */
    onWarning?: (message: string) => void;
  },
): Promise<string | undefined> {
  const { schema, dataset, loadId } = options;
  const target = precopySchema(dataset, loadId);
  const order = options.chains.flat();
  const bytes = new Map(order.map((t) => [t, options.bytes.get(t) ?? 0]));
  try {
    await client.exec(
      `${dropPrecopySql(dataset, loadId)};\nCREATE SCHEMA ${quoteIdent(target)}`,
    );
    const results = await Promise.allSettled(
      spreadTables(bytes, options.connections, order).map((tables) =>
        client.transaction(async (tx) => {
          const ddl: string[] = [];
          const unique = new Map<string, string>();
          planMigration(ddl, new DestinationTables(), target, {
            schema,
            tables,
            deferUnique: unique,
          });
          await tx.exec(ddl.slice(1).join(";\n")); // (the schema exists)
          for (const t of tables) {
            for (const path of options.paths.get(t) ?? []) {
              const job = await openCopyJob(path);
              const cols = job.columns.map(quoteIdent).join(",");
              await tx.copyFrom(`COPY ${qualified(target, t)} (${cols}) FROM STDIN`, job.rows());
              options.onJob?.({ table: t, path });
            }
            const stmt = unique.get(t);
            if (stmt) await tx.exec(stmt);
          }
        })
      ),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (e) {
    await client.exec(dropPrecopySql(dataset, loadId)).catch(() => {});
    options.onWarning?.(
      `Cannot COPY the new tables of load ${loadId} over ${options.connections} connections ` +
        `(${e instanceof Error ? e.message : String(e)}): the load's transaction COPYs them ` +
        "itself; [load] workers = 1 skips trying",
    );
    return undefined;
  }
  return target;
}

/**
 * Each table of `schema` (a load's tables set aside), and whether a name that moving it into
 * `dataset` would bring (the table's, its indexes', its row and array types') is taken there.
 */
const MOVABLE_SQL = `SELECT t.relname AS table, (
  EXISTS (SELECT 1 FROM pg_catalog.pg_class d WHERE d.relnamespace = to_regnamespace($2)
    AND d.relname IN (SELECT t.relname UNION ALL SELECT i.relname FROM pg_catalog.pg_index x
      JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = t.oid))
  OR EXISTS (SELECT 1 FROM pg_catalog.pg_type y WHERE y.typnamespace = to_regnamespace($2)
    AND y.typname IN (SELECT typname FROM pg_catalog.pg_type r WHERE r.oid = t.reltype
      UNION ALL SELECT a.typname FROM pg_catalog.pg_type r
      JOIN pg_catalog.pg_type a ON a.oid = r.typarray WHERE r.oid = t.reltype))
) AS taken
FROM pg_catalog.pg_class t WHERE t.relnamespace = to_regnamespace($1) AND t.relkind = 'r'`;

/**
 * Moves the tables of `chains` set aside in schema `aside` into `dataset` inside the load's
 * transaction `tx`, whole chains only: those whose tables are all still there, and whose
 * names (tables, indexes, types) the dataset does not hold (`known` is the dataset as the transaction sees it; it then has
 * the tables moved). Returns the tables moved; the load's transaction COPYs the others itself.
 */
export async function movePrecopied(
  tx: SqlClient,
  options: {
    aside: string;
    chains: string[][];
    dataset: string;
    schema: StoredSchema;
    known: DestinationTables;
  },
): Promise<Set<string>> {
  const { aside, dataset, known } = options;
  const rows = await tx.query<{ table: string; taken: boolean }>(MOVABLE_SQL, [
    quoteIdent(aside),
    quoteIdent(dataset),
  ]);
  const movable = new Set(rows.filter((r) => !r.taken).map((r) => r.table));
  const chains = options.chains.filter((c) =>
    c.every((t) => movable.has(t) && !known.has(dataset, t))
  );
  const moved = new Set(chains.flat());
  if (moved.size === 0) return moved;
  await tx.exec(
    [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(dataset)}`,
      ...[...moved].map((t) =>
        `ALTER TABLE ${qualified(aside, t)} SET SCHEMA ${quoteIdent(dataset)}`
      ),
    ].join(";\n"),
  );
  for (const t of moved) {
    known.add(dataset, t, completeColumns(options.schema.tables[t]).map((c) => c.name));
  }
  return moved;
}
